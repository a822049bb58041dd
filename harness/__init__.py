"""gilbench: does free-threaded Python, PyPy or subinterpreters pay off on your kind of work?

The data path, one package per step (see docs/architecture.md):
provision -> run (inside/ in each interpreter) -> store -> results -> compare -> report.
"""

__version__ = "0.3.0"
