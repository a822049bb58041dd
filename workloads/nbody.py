"""N-body: pure-Python float arithmetic on a few small lists.

Category: pure-Python CPU. The interpreter's own bytecode loop does all the work and
nothing releases the GIL, so on a GIL build threads take turns while free-threaded
builds, GIL-less implementations and processes can run the units side by side.
"""

from __future__ import division

CATEGORY = "cpu"
TAGS = ("cpu", "float", "quick")
DESCRIPTION = "pure-Python float math (n-body); nothing releases the GIL"
# energy of the system after STEPS steps, formatted to 9 decimals: +, -, * and / are
# correctly rounded on every IEEE-754 implementation, and 9 decimals leave room for a
# libm whose ** differs in the last bit (checked equal on CPython, PyPy and Jython)
CHECKSUM = "-0.169089263"

STEPS = 20000  # about 60 ms a unit on CPython 3.14: long enough to dwarf dispatch costs

try:
    xrange
except NameError:
    xrange = range

PI = 3.14159265358979323
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24


def _bodies():
    """Fresh state for each unit: no object is shared between workers.

    The sun's mass is computed here, not taken from SOLAR_MASS: the loop reads it on every
    step, and a module-level float is one object whose reference count every worker
    thread of a free-threaded build would update at once.
    """
    sun = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 4 * PI * PI]
    jupiter = [
        [4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01],
        [
            1.66007664274403694e-03 * DAYS_PER_YEAR,
            7.69901118419740425e-03 * DAYS_PER_YEAR,
            -6.90460016972063023e-05 * DAYS_PER_YEAR,
        ],
        9.54791938424326609e-04 * SOLAR_MASS,
    ]
    saturn = [
        [8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01],
        [
            -2.76742510726862411e-03 * DAYS_PER_YEAR,
            4.99852801234917238e-03 * DAYS_PER_YEAR,
            2.30417297573763929e-05 * DAYS_PER_YEAR,
        ],
        2.85885980666130812e-04 * SOLAR_MASS,
    ]
    uranus = [
        [1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01],
        [
            2.96460137564761618e-03 * DAYS_PER_YEAR,
            2.37847173959480950e-03 * DAYS_PER_YEAR,
            -2.96589568540237556e-05 * DAYS_PER_YEAR,
        ],
        4.36624404335156298e-05 * SOLAR_MASS,
    ]
    neptune = [
        [1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01],
        [
            2.68067772490389322e-03 * DAYS_PER_YEAR,
            1.62824170038242295e-03 * DAYS_PER_YEAR,
            -9.51592254519715870e-05 * DAYS_PER_YEAR,
        ],
        5.15138902046611451e-05 * SOLAR_MASS,
    ]
    bodies = [sun, jupiter, saturn, uranus, neptune]
    px = py = pz = 0.0
    for _, v, m in bodies:
        px -= v[0] * m
        py -= v[1] * m
        pz -= v[2] * m
    sun[1][0] = px / SOLAR_MASS
    sun[1][1] = py / SOLAR_MASS
    sun[1][2] = pz / SOLAR_MASS
    return bodies


def _energy(bodies):
    e = 0.0
    for i, (r, v, m) in enumerate(bodies):
        e += 0.5 * m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
        for r2, _, m2 in bodies[i + 1 :]:
            dx = r[0] - r2[0]
            dy = r[1] - r2[1]
            dz = r[2] - r2[2]
            e -= (m * m2) / ((dx * dx + dy * dy + dz * dz) ** 0.5)
    return e


def kernel():
    """Advance the solar system STEPS steps; return its energy as a string."""
    bodies = _bodies()
    pairs = [(bodies[i], bodies[j]) for i in range(5) for j in range(i + 1, 5)]
    dt = 0.01
    for _ in xrange(STEPS):
        for (r1, v1, m1), (r2, v2, m2) in pairs:
            dx = r1[0] - r2[0]
            dy = r1[1] - r2[1]
            dz = r1[2] - r2[2]
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** -1.5)
            b1m = m1 * mag
            b2m = m2 * mag
            v1[0] -= dx * b2m
            v1[1] -= dy * b2m
            v1[2] -= dz * b2m
            v2[0] += dx * b1m
            v2[1] += dy * b1m
            v2[2] += dz * b1m
        for r, v, _ in bodies:
            r[0] += dt * v[0]
            r[1] += dt * v[1]
            r[2] += dt * v[2]
    return "%.9f" % _energy(bodies)
