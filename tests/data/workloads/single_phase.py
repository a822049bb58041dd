"""Imports an extension module that refuses subinterpreters (test fixture, CPython 3.12+)."""

import _testsinglephase  # noqa: F401  single-phase init: no subinterpreter may load it

CATEGORY = "cpu"
DESCRIPTION = "imports _testsinglephase, which refuses subinterpreters (test fixture)"
CHECKSUM = 1


def kernel():
    return 1
