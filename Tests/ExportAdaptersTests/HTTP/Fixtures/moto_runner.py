"""Starts moto's server on 127.0.0.1 for the Swift tests.

Prints the chosen port on the first line of stdout once the server listens, then serves until its
standard input closes: the test process holds the other end, so the server dies with it even if the
tests crash. Exit status 3 means moto is not installed (pip install 'moto[server]').
"""
import os
import socket
import sys

try:
    from moto.server import ThreadedMotoServer
except ImportError:
    print("MISSING moto: pip install 'moto[server]'", flush=True)
    sys.exit(3)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


port = free_port()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
print(port, flush=True)
try:
    sys.stdin.read()
finally:
    server.stop()
    os._exit(0)
