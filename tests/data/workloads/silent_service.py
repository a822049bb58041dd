"""A loopback service that accepts and then never answers (test fixture for timeouts)."""

import socket

CATEGORY = "io"
DESCRIPTION = "sends to a peer that never replies (test fixture)"
CHECKSUM = 0


def start_service():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # the kernel's connection completes in the backlog; nobody accepts
    return listener.getsockname()[:2], listener.close


def kernel(address):
    conn = yield ("connect", address)
    yield ("send", conn, b"hello?\n")
    reply = yield ("recv", conn, 100)
    yield ("close", conn)
    yield ("result", len(reply))
