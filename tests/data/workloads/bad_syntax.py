CATEGORY = "cpu"
DESCRIPTION = "not Python (test fixture)"
def kernel(:
