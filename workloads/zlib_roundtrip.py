"""zlib compression and decompression of a 1 MiB text: C code that releases the GIL.

Category: C code that releases the GIL. zlib drops the GIL around every deflate and
inflate call, so threads scale on every CPython build, as they do for hashlib. Unlike a
hash, compression works through a large, changing window of memory, so this also shows
whether memory bandwidth, not the GIL, is what limits the cores.
"""

import zlib

CATEGORY = "c-release"
TAGS = ("c-release", "zlib", "compression")
DESCRIPTION = "zlib compress + decompress of 1 MiB; C code that releases the GIL"
# bytes restored over all rounds and the CRC-32 of the last restored buffer. Compressed
# bytes differ between zlib versions; restored bytes never do.
CHECKSUM = "2097152:1b45f2cc"

ROUNDS = 2  # about 70 ms a unit on CPython 3.14
LEVEL = 6  # zlib's default trade-off between speed and size

try:
    xrange
except NameError:
    xrange = range


def _text():
    """1 MiB of log-like lines: compressible, but not trivially (a counter, an LCG)."""
    lines = []
    seed = 7
    size = 0
    i = 0
    while size < 1 << 20:
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        line = "%06d GET /items/%d?user=%d 200 %dms\n" % (i, seed % 5000, seed % 977, seed % 300)
        lines.append(line)
        size += len(line)
        i += 1
    return "".join(lines).encode("ascii")[: 1 << 20]


# Built once at import, outside any timed region; read-only afterwards.
_TEXT = _text()


def kernel():
    """Compress and restore the text ROUNDS times."""
    restored_bytes = 0
    restored = b""
    for _ in xrange(ROUNDS):
        packed = zlib.compress(_TEXT, LEVEL)
        restored = zlib.decompress(packed)
        restored_bytes += len(restored)
    return "%d:%08x" % (restored_bytes, zlib.crc32(restored) & 0xFFFFFFFF)
