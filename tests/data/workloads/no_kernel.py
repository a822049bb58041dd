"""Declares everything but the kernel (test fixture)."""

CATEGORY = "cpu"
DESCRIPTION = "no kernel function (test fixture)"
CHECKSUM = 0
