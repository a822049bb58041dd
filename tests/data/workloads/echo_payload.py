"""A payload unit small enough for fast tests: the bytes it is given, reversed (test fixture)."""

CATEGORY = "payload"
DESCRIPTION = "gives its payload back reversed (test fixture)"
PAYLOADS = ("0", "1KiB", "64KiB")


def make_input(size):
    return bytes(bytearray(i % 251 for i in range(size)))


def kernel(data):
    return bytes(data)[::-1]


def expected_output(size):
    return make_input(size)[::-1]
