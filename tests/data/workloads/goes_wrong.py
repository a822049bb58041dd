"""Right for its first three calls in a process, wrong from then on (test fixture)."""

CATEGORY = "cpu"
DESCRIPTION = "returns its checksum three times, then a wrong one (test fixture)"
CHECKSUM = 41

_calls = []


def kernel():
    _calls.append(1)
    return 41 if len(_calls) <= 3 else 42
