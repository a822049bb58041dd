"""Provision: which interpreters are measured, and where each one comes from.

``cpython`` builds CPython twice from one verified tarball (``sources``); ``discover``
finds PyPy, Jython, IronPython, GraalPy and other CPythons; ``catalog`` gathers the rows
(``impls.Impl``) a command needs; ``venvs`` gives each a venv with pyperf; ``system``
installs Debian packages when allowed. Importing this package imports nothing heavy:
the noxfile reads it to name its sessions.
"""
