"""Objects and method calls: a small class hierarchy asked the same questions many times.

Category: pure-Python CPU. Attribute lookups, bound-method calls and dispatch through
subclasses: what object-oriented application code spends its time on. The specializing
interpreter speeds these up with per-call-site caches, which free-threaded builds must
keep thread-safe, so this is where the free-threaded build's single-thread cost shows.
"""

CATEGORY = "cpu"
TAGS = ("cpu", "oo", "methods")
DESCRIPTION = "pure-Python method calls on a class hierarchy; nothing releases the GIL"
# total of all areas and perimeters over every pass (exact integers)
CHECKSUM = 47927600

SHAPES = 300  # objects in the scene
PASSES = 1400  # times every shape is asked for its area and perimeter: about 70 ms a unit

try:
    xrange
except NameError:
    xrange = range


class Shape(object):
    def __init__(self, name):
        self.name = name

    def area(self):
        raise NotImplementedError

    def perimeter(self):
        raise NotImplementedError

    def weight(self):
        return self.area() + self.perimeter()


class Rect(Shape):
    def __init__(self, width, height):
        Shape.__init__(self, "rect")
        self.width = width
        self.height = height

    def area(self):
        return self.width * self.height

    def perimeter(self):
        return 2 * (self.width + self.height)


class Square(Rect):
    def __init__(self, side):
        Rect.__init__(self, side, side)
        self.name = "square"


class Triangle(Shape):
    def __init__(self, a, b, c):
        Shape.__init__(self, "triangle")
        self.a, self.b, self.c = a, b, c

    def area(self):  # twice the area of a right triangle with legs a and b: an integer
        return self.a * self.b

    def perimeter(self):
        return self.a + self.b + self.c


class Scene(object):
    def __init__(self):
        self.shapes = []

    def add(self, shape):
        self.shapes.append(shape)
        return self

    def total(self):
        total = 0
        for shape in self.shapes:
            total += shape.weight()
        return total


def _scene():
    scene = Scene()
    for i in xrange(SHAPES):
        kind = i % 3
        if kind == 0:
            scene.add(Rect(i % 17 + 1, i % 13 + 2))
        elif kind == 1:
            scene.add(Square(i % 11 + 1))
        else:
            scene.add(Triangle(3 * (i % 5 + 1), 4 * (i % 5 + 1), 5 * (i % 5 + 1)))
    return scene


def kernel():
    """Build the scene, then total its shapes' weights PASSES times."""
    scene = _scene()
    total = 0
    for _ in xrange(PASSES):
        total += scene.total()
    return total
