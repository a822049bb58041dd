"""gilbench: does free-threaded Python, PyPy or subinterpreters pay off on your kind of work?

The data path, one module per step (see docs/architecture.md):
provision -> run (inside/runner.py in each interpreter) -> results -> compare -> render.
"""

__version__ = "0.1.0"
