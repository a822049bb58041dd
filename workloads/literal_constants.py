"""Literals in a hot loop made by compile() from source text: what 3.14t threads pay.

Category: contention, with no shared *state*. A literal such as ``1103515245`` or
``0.001`` is one object, kept in the code object, and every thread running that code
uses that very object. CPython's free-threaded build makes such constants immortal when
it builds the code itself (a module imported from its .pyc, a script, exec() of a
string, compile() of an AST), but not when the builtin compile() turns source text into
code, and importlib does exactly that for a module with no usable .pyc: its first import
after an edit, python -B or PYTHONDONTWRITEBYTECODE, a read-only folder. Then every
thread updates each literal's reference count at once, and the cores queue for one
cache line. gilbench loads every workload as if from its .pyc, so this one makes its
loop with compile() on purpose. With a GIL in force, and on PyPy and Jython, threads
pay nothing extra for it; processes and subinterpreters each compile their own copy.
"""

CATEGORY = "contention"
TAGS = ("contention", "refcount", "literals")
DESCRIPTION = "literals in a loop compiled as a module with no .pyc is; 3.14t threads contend"
# the LCG's last state and the sum of its scaled draws (exact: one correctly rounded
# multiply and add per step, in the same order on every IEEE-754 implementation)
CHECKSUM = "1702525561 299540.216000"

STEPS = 600000  # about 65 ms a unit on CPython 3.14

LOOP = """
def draw(steps, xrange):
    seed = 12345
    total = 0.0
    for _ in xrange(steps):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        total += (seed % 1000) * 0.001
    return "%d %.6f" % (seed, total)
"""

try:
    xrange
except NameError:
    xrange = range

_made = {}
exec(compile(LOOP, __file__ + " (LOOP)", "exec"), _made)
draw = _made["draw"]


def kernel():
    """Draw STEPS pseudo-random numbers in the compiled loop; return its state and sum."""
    return draw(STEPS, xrange)
