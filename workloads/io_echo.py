"""A real loopback socket service: send a request, wait for the answer, repeat.

Category: I/O-bound. A small TCP service on 127.0.0.1 answers every request line after
SERVICE_DELAY, like a database or an HTTP backend would; each unit connects, sends
REQUESTS requests one after another, and checks every echoed byte. The kernel only
yields socket requests, which the model performs: blocking calls in threads, processes
and subinterpreters; non-blocking sockets awaited on the loop in asyncio. Blocking socket
calls release the GIL, so W workers should overlap their waits on any implementation.

The service runs in the model's own process, is started before the warm-up round and is
stopped after the last one (``start_service``): it is never inside a timed region. It
binds 127.0.0.1 only, every socket has a timeout, and it shuts itself down after
IDLE_LIMIT_S without a connection, even if nobody stops it.
"""

import socket
import threading
import time

CATEGORY = "io"
TAGS = ("io", "socket", "loopback")
DESCRIPTION = "16 requests to a loopback TCP service answering in 5 ms; socket waits need no GIL"
CHECKSUM = 4112  # bytes echoed back intact: REQUESTS x (PAYLOAD + 1 newline) = 16 x 257

REQUESTS = 16
SERVICE_DELAY = 0.005  # 5 ms per answer: a fast backend; 16 of them make an 80 ms unit
PAYLOAD = 256  # bytes per request, plus the newline that ends it
TIMEOUT_S = 10.0  # no socket operation on loopback takes this long unless something broke
IDLE_LIMIT_S = 600.0  # the service stops by itself after this long without a connection
ACCEPT_POLL_S = 0.2  # how often the accept loop looks at its stop flag
MAX_LINE = 65536  # a request longer than this is refused

try:
    xrange
except NameError:
    xrange = range


def _answer(conn, stopping):
    """Serve one connection: echo each line after SERVICE_DELAY, until EOF or stop."""
    conn.settimeout(TIMEOUT_S)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    try:
        while not stopping.is_set() and len(pending) <= MAX_LINE:
            chunk = conn.recv(65536)
            if not chunk:
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                time.sleep(SERVICE_DELAY)
                conn.sendall(line + b"\n")
    except (socket.error, socket.timeout):
        return  # the client went away; nothing to tell anyone
    finally:
        conn.close()


def _accept(listener, stopping):
    idle_since = time.time()
    while not stopping.is_set() and time.time() - idle_since < IDLE_LIMIT_S:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        except socket.error:
            break  # the listener was closed under us: stop
        idle_since = time.time()
        handler = threading.Thread(target=_answer, args=(conn, stopping))
        handler.daemon = True
        handler.start()
    listener.close()


def start_service():
    """Start the echo service on 127.0.0.1; return (its address, a function that stops it)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.settimeout(ACCEPT_POLL_S)
    stopping = threading.Event()
    acceptor = threading.Thread(target=_accept, args=(listener, stopping))
    acceptor.daemon = True
    acceptor.start()

    def stop():
        stopping.set()
        acceptor.join(TIMEOUT_S)

    return listener.getsockname()[:2], stop


def kernel(address):
    """Connect, make REQUESTS round trips, check each echo; count the bytes that came back."""
    conn = yield ("connect", address)  # the model closes it if the unit fails halfway
    echoed = 0
    for i in xrange(REQUESTS):
        request = ("%04d" % i).encode("ascii") + b"x" * (PAYLOAD - 4) + b"\n"
        yield ("send", conn, request)
        reply = b""
        while len(reply) < len(request):  # bounded: ends at EOF or a full reply
            chunk = yield ("recv", conn, 65536)
            if not chunk:
                break
            reply += chunk
        if reply == request:
            echoed += len(reply)
    yield ("close", conn)
    yield ("result", echoed)
