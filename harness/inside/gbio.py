"""The I/O requests a generator kernel yields, and the driver that performs them blocking.

A workload doesn't do I/O in its kernel: it makes the kernel a generator that *asks* for
it, and ends with ``yield ("result", value)`` (Python 2.7 generators can't return a
value). Each model performs the requests its own way: blocking in serial, threads,
processes and subinterpreters (``drive_blocking``, here), awaited on the event loop in
asyncio (gbasync.drive). One file thus serves every model and Python 2.7 alike.
"""

import socket
import time

import gbprotocol

# What a generator kernel may yield, and what the model sends back into it:
#   ("sleep", seconds)              -> None, after that long
#   ("connect", (host, port))       -> a connection (TCP, Nagle off); the model closes
#                                      it when the unit ends, if the kernel hasn't
#   ("send", connection, data)      -> None, once every byte is sent
#   ("recv", connection, size)      -> up to size bytes; empty once the peer has closed
#   ("close", connection)           -> None
#   ("result", value)               ends the unit: Python 2.7 generators can't return a value
REQUESTS = ("sleep", "connect", "send", "recv", "close", "result")
IO_TIMEOUT = 10.0  # seconds: a loopback peer that is silent this long is broken, not slow


def _connect(address):
    conn = socket.create_connection(tuple(address), IO_TIMEOUT)
    # Request/response traffic: without this, Nagle's algorithm meets delayed ACKs and
    # a reply can wait 40 ms for nothing.
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


BLOCKING = {
    "sleep": time.sleep,
    "connect": _connect,
    "send": lambda conn, data: conn.sendall(data),
    "recv": lambda conn, size: conn.recv(size),
    "close": lambda conn: conn.close(),
}


def unknown_request(request):
    """The failure for a request no driver knows, naming it and those it could have been."""
    return gbprotocol.WorkloadFailure(
        "crashed", "the kernel yielded %r; a request starts with one of %s"
        % (request, ", ".join(REQUESTS)),
    )  # fmt: skip


def drive_blocking(steps):
    """Perform, blocking, each request a generator kernel yields; return its result.

    The driver owns the connections it opens: whatever becomes of the unit, they are
    closed when it ends (a kernel that fails halfway can't be trusted to).
    """
    opened = []
    reply = None
    try:
        while True:
            try:
                request = steps.send(reply)
            except StopIteration as stop:  # a Python 3 kernel may also ``return value``
                return getattr(stop, "value", None)
            if request[0] == "result":
                return request[1]
            perform = BLOCKING.get(request[0])
            if perform is None:
                raise unknown_request(request)
            reply = perform(*request[1:])
            if request[0] == "connect":
                opened.append(reply)
    finally:
        steps.close()
        for conn in opened:
            conn.close()
