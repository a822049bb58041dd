"""A unit like tiny's, from a module that keeps every attribute looked up in it in vain."""

CATEGORY = "cpu"
TAGS = ("test",)
DESCRIPTION = "records its attribute misses (test fixture)"
CHECKSUM = 1
MISSED = []


def __getattr__(name):  # a module's __getattr__ sees every miss (PEP 562, Python 3.7+)
    MISSED.append(name)
    raise AttributeError(name)


def kernel():
    return 1
