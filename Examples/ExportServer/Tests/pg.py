"""A PostgreSQL server of the test's own, as the moto tests start moto_server: initdb in a temporary
directory, SCRAM-SHA-256 password authentication over TCP on a free 127.0.0.1 port, started as the
`postgres` system user when the tests run as root (PostgreSQL refuses to run as root), stopped at exit.

Needs PostgreSQL 15's server: apt-get install postgresql-15 (or PG_BIN=<directory of initdb>)."""
import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import uuid

from server import free_port

INSTALL = "apt-get install postgresql-15"


def binaries():
    candidates = [os.environ.get("PG_BIN", ""), "/usr/lib/postgresql/15/bin"]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    candidates += [os.path.dirname(shutil.which("initdb") or "")]
    for directory in candidates:
        if directory and all(os.access(os.path.join(directory, t), os.X_OK) for t in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise SystemExit(f"FAIL: PostgreSQL's server (initdb, pg_ctl, postgres) is missing: {INSTALL}")


class Postgres:
    user = "export_test"

    def __init__(self, settings=()):
        self.bin = binaries()
        self.dir = tempfile.mkdtemp(prefix="export-pg-")
        self.password = uuid.uuid4().hex
        self.port = None
        self.settings = list(settings)
        self.as_root = os.geteuid() == 0

    def _tool(self, tool, *args, **kw):
        command = [os.path.join(self.bin, tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--"] + command
        return subprocess.run(command, check=True, capture_output=True, text=True, **kw)

    def start(self):
        with open(os.path.join(self.dir, "pwfile"), "w") as f:
            f.write(self.password)
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(os.path.join(self.dir, "pwfile"), "postgres", "postgres")
        data = os.path.join(self.dir, "data")
        self._tool("initdb", "-D", data, "-U", self.user, "--pwfile=" + os.path.join(self.dir, "pwfile"),
                   "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        with open(os.path.join(data, "pg_hba.conf"), "w") as f:
            f.write("host all all 127.0.0.1/32 scram-sha-256\n")
        for _ in range(5):
            self.port = free_port()
            options = " ".join([f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.dir}",
                                "-c max_connections=300"] + [f"-c {s}" for s in self.settings])
            try:
                self._tool("pg_ctl", "-D", data, "-l", os.path.join(self.dir, "server.log"), "-w", "-t", "60", "start", "-o", options)
                atexit.register(self.stop)
                return self
            except subprocess.CalledProcessError:
                continue
        raise RuntimeError("PostgreSQL did not start:\n" + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.port is not None:
            try:
                self._tool("pg_ctl", "-D", os.path.join(self.dir, "data"), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
            self.port = None
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database="postgres"):
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def env(self):
        return dict(os.environ, PGPASSWORD=self.password, PGHOST="127.0.0.1", PGPORT=str(self.port), PGUSER=self.user)

    def psql(self, sql, database="postgres"):
        """Runs SQL with psql; returns the rows as lists of strings."""
        out = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                              "-d", database, "-c", sql], check=True, capture_output=True, text=True, env=self.env()).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
