"""Starts moto's server on 127.0.0.1 for the Swift tests.

Prints the chosen port on the first line of stdout once the server listens, then serves until its
standard input closes: the test process holds the other end, so the server dies with it even if the
tests crash. Exit status 3 means moto is not installed (pip install 'moto[server]').
"""
import os
import sys

import threading

try:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server
except ImportError:
    print("MISSING moto: pip install 'moto[server]'", flush=True)
    sys.exit(3)


class AtomicDynamoDB:
    """Serialises DynamoDB calls.

    moto serves requests on threads and does not lock its DynamoDB tables, so two concurrent
    conditional writes can both pass their condition, which real DynamoDB never allows. The tests
    check exactly that guarantee (one winner among concurrent creates and notification
    reservations), so DynamoDB requests run one at a time; SQS long polls and S3 stay concurrent.
    """

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Consume the response inside the lock: moto does its work lazily for some calls.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


# Bind port 0 and report the port the OS chose: picking a free port first and binding it again
# later races with anything else that picks one meanwhile.
server = make_server("127.0.0.1", 0, AtomicDynamoDB(DomainDispatcherApplication(create_backend_app)), threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_port, flush=True)
try:
    sys.stdin.read()
finally:
    server.shutdown()
    os._exit(0)
