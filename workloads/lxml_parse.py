"""lxml parsing an XML document and querying it with XPath: C code that releases the GIL.

Category: C code that releases the GIL. libxml2 parses and evaluates XPath in C, and lxml
releases the GIL while it does. On the free-threaded build lxml's extension module
(lxml.etree) may not declare that it runs without the GIL, and importing it then turns
the GIL back on: gilbench records that beside the cells, measured as they ran. Needs
lxml (REQUIRES).
"""

from lxml import etree

CATEGORY = "c-release"
TAGS = ("c-release", "lxml", "xml", "packages")
DESCRIPTION = "lxml: parse a 200 KiB XML document, count with XPath; libxml2 releases the GIL"
REQUIRES = ("lxml>=5",)
# items of kind b counted, and prices of kind c summed, over the rounds
CHECKSUM = 79691184

ITEMS = 2000  # elements in the document: about 200 KiB of XML
ROUNDS = 24  # about 60 ms a unit on CPython 3.14 here

try:
    xrange
except NameError:
    xrange = range

# Built once at import, outside any timed region; read-only afterwards.
_DOCUMENT = (
    "<catalog>"
    + "".join(
        '<item id="%d" kind="%s"><name>item-%04d</name><price>%d</price>'
        "<note>%s</note></item>" % (i, "abc"[i % 3], i, (i * 397) % 10000, "x" * (i % 40))
        for i in xrange(ITEMS)
    )
    + "</catalog>"
).encode("ascii")


def kernel():
    """Parse the document ROUNDS times; count one kind of item and the prices of another."""
    total = 0
    for _ in xrange(ROUNDS):
        root = etree.fromstring(_DOCUMENT)
        total += int(root.xpath("count(//item[@kind='b'])"))
        total += int(root.xpath("sum(//item[@kind='c']/price)"))
    return total
