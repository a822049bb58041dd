"""Gives its payload back with its last byte changed (test fixture)."""

CATEGORY = "payload"
DESCRIPTION = "gives its payload back with its last byte changed (test fixture)"
PAYLOADS = ("1KiB",)


def make_input(size):
    return b"a" * size


def kernel(data):
    return bytes(data)[:-1] + b"b"


def expected_output(size):
    return make_input(size)
