"""Starts moto's server on 127.0.0.1 for the Swift tests.

Prints the chosen port on the first line of stdout once the server listens, then serves until its
standard input closes: the test process holds the other end, so the server dies with it even if the
tests crash. Exit status 3 means moto is not installed (pip install 'moto[server]').
"""
import json
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
        if environ.get("PATH_INFO") == "/_tests/ses/messages" and environ.get("REQUEST_METHOD") == "GET":
            return sent_messages(start_response)
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Consume the response inside the lock: moto does its work lazily for some calls.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def sent_messages(start_response):
    """Every e-mail moto's SES accepted, as a JSON array of their public attributes.

    moto's own /moto-api/data.json serialises every model of every service, and in moto 5.2 it
    answers 500 for as long as any S3 multipart upload with a part is open, which the S3 suites and
    the kill storms sharing this server keep doing. This reads SES alone.
    """
    from moto.ses.models import ses_backends

    messages = []
    for _, regions in ses_backends.items():
        for _, backend in dict.items(regions):
            for message in list(backend.sent_messages):
                entry = {}
                for name in dir(message):
                    if name.startswith("_"):
                        continue
                    value = getattr(message, name)
                    try:
                        json.dumps(value)
                    except (TypeError, ValueError):
                        continue
                    entry[name] = value
                messages.append(entry)
    body = json.dumps(messages).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


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
