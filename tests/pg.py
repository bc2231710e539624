"""A throwaway PostGIS server for the tests and the benchmark, and one fresh database per caller.

Where the server comes from, in this order:
1. POI_TEST_POSTGRES_URL (a superuser URL of a server with PostGIS available): used as is; the
   databases made here are dropped again at exit.
2. The PostgreSQL 15 binaries of Debian's postgresql-15 + postgresql-15-postgis-3 (scripts/pg-install.sh):
   a cluster is created in a temporary directory, owned by the `postgres` system user when run as root
   (initdb refuses root), listening on a free loopback port and on a unix socket inside that directory.
   It is stopped and removed at interpreter exit; a small watchdog process does the same should the
   test process die without running its exit handlers.
3. Neither: `unavailable_reason()` says why. Under CI (CI set) the PostGIS tests fail with that message;
   locally they are skipped with it.

`fresh_database_url()` creates a new empty database from a template that already has
`CREATE EXTENSION postgis` (a file copy, ~0.1 s), so every test starts from nothing.
Run `python -m tests.pg` to start a cluster by hand (prints its URL; Ctrl-C stops it).
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PG_MAJOR = os.environ.get("POI_TEST_PG_MAJOR", "15")
PG_BIN = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
POSTGIS_CONTROL = Path(f"/usr/share/postgresql/{PG_MAJOR}/extension/postgis.control")
INSTALL_HINT = "run `bash scripts/pg-install.sh` (installs postgresql-15-postgis-3 from Debian)"
TEMPLATE = "poi_test_template"

# Settings for a disposable cluster: durability off, small footprint, loopback only.
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "300",
    "shared_buffers": "256MB",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "timezone": "UTC",
    "jit": "off",
}


def in_ci() -> bool:
    """True under CI, where a missing PostGIS is a failure, never a skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable_reason() -> str | None:
    """Why no PostGIS test server can be had here, or None when one can."""
    if os.environ.get("POI_TEST_POSTGRES_URL"):
        return None
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg / psycopg-pool not installed: pip install -e '.[test]'"
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL not installed ({PG_BIN}/initdb missing): {INSTALL_HINT}"
    if not POSTGIS_CONTROL.exists():
        return f"PostGIS not installed ({POSTGIS_CONTROL} missing): {INSTALL_HINT}"
    return None


def available() -> bool:
    """Whether PostGIS tests can run."""
    return unavailable_reason() is None


def require() -> None:
    """Fails (CI) or skips (locally) the calling test when no PostGIS server can be had."""
    reason = unavailable_reason()
    if reason is None:
        return
    import pytest

    if in_ci():
        pytest.fail(f"PostGIS not installed and CI is set: {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A PostgreSQL cluster in a temporary directory, run by the postgres user when we are root."""

    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="poi-pg-")))
    port: int = 0
    user: str = "postgres"
    settings: dict[str, str] = field(default_factory=dict)  # postgresql.conf overrides
    _watchdog: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sockets(self) -> Path:
        return self.base / "run"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, cwd=self.base)

    def _prepare(self) -> None:
        self.sockets.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for p in (self.base, self.sockets):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name

    def _launch(self) -> Cluster:
        """Our settings (appended, so they win), then pg_ctl start on a free port (retried should
        another process take the port in between)."""
        settings = {**_SERVER_SETTINGS, **self.settings, "unix_socket_directories": str(self.sockets)}
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = '{value}'\n" for key, value in settings.items())
        for _attempt in range(5):
            self.port = _free_port()
            started = self._run(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.base / "server.log"),
                "-o",
                f"-p {self.port}",
                "-w",
                "-t",
                "60",
                "start",
                check=False,
            )
            if started.returncode == 0:
                break
        else:
            log = (self.base / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL test cluster did not start: {started.stderr}\n{log}")
        self._start_watchdog()
        return self

    def start(self) -> Cluster:
        """A new cluster: initdb, then start."""
        self._prepare()
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        return self._launch()

    def replica(self) -> Cluster:
        """A hot-standby streaming replica of this cluster (which needs wal_level 'replica' and
        max_wal_senders > 0 in its settings), started and following."""
        rep = Cluster(settings=dict(self.settings))
        rep._prepare()
        rep._run(
            str(PG_BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-D",
            str(rep.data),
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
        )
        return rep._launch()

    def _start_watchdog(self) -> None:
        # Stops and removes the cluster once this process is gone, however it ended.
        pg_ctl = f"{PG_BIN / 'pg_ctl'} -D {self.data} -m immediate stop"
        if os.geteuid() == 0:
            pg_ctl = f"runuser -u postgres -- {pg_ctl}"
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
            f"{pg_ctl} >/dev/null 2>&1; rm -rf {self.base}"
        )
        self._watchdog = subprocess.Popen(
            ["bash", "-c", script],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def restart(self, down_s: float = 0.0) -> None:
        """Stops the server (fast: sessions are cut), waits down_s, and starts it on the same port."""
        pg_ctl = str(PG_BIN / "pg_ctl")
        self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
        time.sleep(down_s)
        self._run(
            pg_ctl,
            "-D",
            str(self.data),
            "-l",
            str(self.base / "server.log"),
            "-o",
            f"-p {self.port}",
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        """Stops the server and removes its directory."""
        if self.data.exists():
            self._run(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False
            )
        shutil.rmtree(self.base, ignore_errors=True)
        if self._watchdog is not None and self._watchdog.poll() is None:
            os.killpg(self._watchdog.pid, signal.SIGTERM)
            self._watchdog.wait()
        self._watchdog = None


class Server:
    """One PostGIS server for the whole session and the databases made on it."""

    def __init__(self, admin_url: str, cluster: Cluster | None) -> None:
        self.admin_url = admin_url
        self.cluster = cluster
        self.created: list[str] = []
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._prefix = f"poi_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._template = f"{self._prefix}_tpl" if cluster is None else TEMPLATE
        self._admin("CREATE DATABASE {}", self._template)
        self.created.append(self._template)
        import psycopg

        with psycopg.connect(self._url(self._template), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        # A template must have no other connections while it is copied.
        self._admin("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false", self._template)

    def _url(self, dbname: str) -> str:
        import psycopg.conninfo

        params = psycopg.conninfo.conninfo_to_dict(self.admin_url)
        params["dbname"] = dbname
        return psycopg.conninfo.make_conninfo("", **params)  # type: ignore[arg-type]

    def _admin(self, statement: str, *names: str) -> None:
        import psycopg
        from psycopg import sql

        query = sql.SQL(statement).format(*(sql.Identifier(n) for n in names))
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(query)

    def fresh_database_url(self) -> str:
        """A new empty database with the postgis extension, as a postgresql:// URL."""
        with self._lock:
            name = f"{self._prefix}_{next(self._counter)}"
        self._admin("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY", name, self._template)
        with self._lock:
            self.created.append(name)
        import psycopg.conninfo

        params = psycopg.conninfo.conninfo_to_dict(self.admin_url)
        host, port = params.get("host") or "127.0.0.1", params.get("port") or "5432"
        user = params.get("user") or "postgres"
        password = f":{params['password']}" if params.get("password") else ""
        return f"postgresql://{user}{password}@{host}:{port}/{name}"

    def close(self) -> None:
        """Drops what was made (external server) or stops and removes the cluster."""
        if self.cluster is not None:
            self.cluster.stop()
            return
        for name in reversed(self.created):
            try:
                if name == self._template:
                    self._admin("ALTER DATABASE {} WITH is_template false", name)
                self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
            except Exception as exc:  # best effort at exit
                print(f"tests.pg: could not drop {name}: {exc}", file=sys.stderr)


_server: Server | None = None
_server_lock = threading.Lock()


def server() -> Server:
    """The session's server, started on first use and stopped at exit."""
    global _server
    with _server_lock:
        if _server is None:
            require()
            url = os.environ.get("POI_TEST_POSTGRES_URL")
            cluster = None if url else Cluster().start()
            try:
                _server = Server(url or cluster.url(), cluster)  # type: ignore[union-attr]
            except BaseException:
                if cluster is not None:
                    cluster.stop()
                raise
            atexit.register(_server.close)
        return _server


def fresh_database_url() -> str:
    """The URL of a new, empty database with PostGIS on the session's test server."""
    return server().fresh_database_url()


def shutdown() -> None:
    """Stops the session's server now (pytest's session finaliser; atexit does it otherwise)."""
    global _server
    with _server_lock:
        if _server is not None:
            _server.close()
            atexit.unregister(_server.close)
            _server = None


if __name__ == "__main__":
    reason = unavailable_reason()
    if reason:
        sys.exit(reason)
    # Background jobs start with SIGINT ignored; make INT and TERM end the process through atexit.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: sys.exit(0))
    srv = server()
    print(f"export POI_TEST_POSTGRES_URL={srv.admin_url}", flush=True)
    print(f"# a fresh database: {srv.fresh_database_url()}", flush=True)
    while True:
        time.sleep(3600)
