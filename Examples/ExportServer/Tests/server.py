"""Starts and stops export-server for the example's tests: a fresh data directory, a free port on
127.0.0.1, and the process stopped (SIGTERM, then SIGKILL) however the test ends."""
import atexit
import base64
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)


def binary():
    path = os.environ.get("EXPORT_SERVER_BIN")
    if path:
        return path
    out = subprocess.run(["swift", "build", "--package-path", PACKAGE, "--show-bin-path"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(out, "export-server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic(user, password="demo"):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Server:
    def __init__(self, *args, data_dir=None, port=None):
        self.args = list(args)
        self.port = port or free_port()
        self.owned_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="export-server-test-")
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "server.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=60):
        if self.proc is not None:
            raise RuntimeError("this Server was started already; use either start() or a with block")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([binary(), "--port", str(self.port), "--data-dir", self.data_dir] + self.args,
                                     stdout=log, stderr=subprocess.STDOUT)
        atexit.register(self.kill)  # however the test ends, no server outlives it
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"export-server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise RuntimeError("export-server did not become healthy:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def terminate(self, timeout=60):
        """SIGTERM and wait; returns the exit code (SIGKILL after `timeout`)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.terminate()
        finally:
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def request(self, method, path, user=None, body=None, headers=None):
        """(status, headers, body bytes), never following redirects."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if user:
            req.add_header("Authorization", basic(user))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method, path, user=None, body=None):
        status, _, data = self.request(method, path, user, body)
        return status, (json.loads(data) if data else None)

    def wait_for(self, job_id, user, states, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, job = self.json("GET", f"/api/v1/exports/{job_id}", user)
            assert status == 200, (status, job)
            if job["state"] in states:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} did not reach {states}; last {job}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
