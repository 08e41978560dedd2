"""A throwaway PostgreSQL server for the local stack and the tests.

Binaries are looked up in this order: ``STREAMLOAD_PG_BINDIR``, ``initdb`` on PATH,
``/usr/lib/postgresql/<newest>/bin``, then the binaries bundled in the ``pgserver`` wheel,
so a fresh machine with only Python still works.

PostgreSQL refuses to run as root (CI does), so when euid is 0 initdb and the server run
as an unprivileged account (``postgres`` if it exists, else ``nobody``) that owns the data
directory. The server listens on 127.0.0.1 only, with trust auth, fsync off and no unix
socket (its default directory is often not writable by that account).
"""
from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

from streamload.core.processes import die_with_parent_hook, free_port, log_lines, stop_process

__all__ = ["PostgresServer", "PostgresStartError", "find_postgres_bindir"]

SUPERUSER = "postgres"
DEFAULT_DATABASE = "dev"  # Redshift's default database name
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0


class PostgresStartError(RuntimeError):
    """PostgreSQL could not be found, initialised or started; the message says why."""


def find_postgres_bindir() -> Path:
    """Return a directory holding ``initdb`` and ``postgres``."""
    candidates: list[Path] = []
    if override := os.environ.get("STREAMLOAD_PG_BINDIR"):
        candidates.append(Path(override))
    if on_path := shutil.which("initdb"):
        candidates.append(Path(on_path).resolve().parent)  # Debian symlinks into its bindir
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(p) for p in versioned), key=_major_version, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    try:  # last resort, imported lazily: the wheel's bundled PostgreSQL
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import pgserver

        bindir = Path(pgserver.__file__).parent / "pginstall" / "bin"
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    except ImportError:
        pass
    raise PostgresStartError(
        "no PostgreSQL binaries found (looked in STREAMLOAD_PG_BINDIR, PATH, "
        "/usr/lib/postgresql/*/bin and the pgserver wheel)"
    )


def _major_version(bindir: Path) -> int:
    try:
        return int(bindir.parent.name)
    except ValueError:
        return 0


def _server_major_version(bindir: Path) -> int:
    """``postgres --version`` -> 16 for "postgres (PostgreSQL) 16.4"; 0 if unreadable."""
    try:
        out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def _unprivileged_account() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresStartError("running as root and neither a 'postgres' nor a 'nobody' account exists")


def _open_traversal(path: Path) -> None:
    """Let other users traverse every ancestor of ``path`` (o+x only, no listing)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


# Runs in the child before exec: if this Python process dies (even SIGKILL), the kernel
# sends the server SIGQUIT (immediate shutdown), so no orphaned servers. Linux ties this to
# the *thread* that forked: start (and restart) the server from a long-lived thread -- one
# that ends first takes the server down with it.
_die_with_parent = die_with_parent_hook(signal.SIGQUIT)


class PostgresServer:
    """Start/stop a PostgreSQL server on 127.0.0.1 with a ``dev`` database.

    >>> with PostgresServer() as pg:
    ...     psycopg.connect(pg.dsn)
    """

    def __init__(self, data_dir: Path | None = None, port: int = 0) -> None:
        self._requested_data_dir = Path(data_dir) if data_dir is not None else None
        self._requested_port = port
        self.port: int | None = None
        self.data_dir: Path | None = None
        self.log_path: Path | None = None
        self._temp_root: Path | None = None
        self._process: subprocess.Popen | None = None
        self._account = None

    # -- public API ---------------------------------------------------------------
    @property
    def dsn(self) -> str:
        """libpq URI of the ``dev`` database."""
        return self.dsn_for(DEFAULT_DATABASE)

    def dsn_for(self, database: str) -> str:
        if self.port is None:
            raise PostgresStartError("PostgreSQL server not started")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> "PostgresServer":
        if self._process is not None and self._process.poll() is None:
            return self
        self._account = _unprivileged_account()
        bindir = find_postgres_bindir()
        self._prepare_data_dir(bindir)
        attempts = 1 if self._requested_port else 3  # a free port can be taken meanwhile
        for attempt in range(attempts):
            self.port = self._requested_port or free_port()
            try:
                self._launch(bindir)
                break
            except PostgresStartError:
                if attempt == attempts - 1 or "could not bind" not in self._log_tail():
                    self.stop()
                    raise
        atexit.register(self.stop)
        self.create_database(DEFAULT_DATABASE)
        return self

    def stop(self) -> None:
        """Fast shutdown; SIGKILL if it takes longer than a few seconds. Idempotent."""
        process, self._process = self._process, None
        if process is not None:  # SIGINT is the "fast" shutdown: abort sessions, no wait
            stop_process(process, STOP_TIMEOUT_S, first_signal=signal.SIGINT)
        if self._temp_root is not None:
            shutil.rmtree(self._temp_root, ignore_errors=True)
            self._temp_root = None

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; return its DSN."""
        with psycopg.connect(self.dsn_for("postgres"), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn_for(name)

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------
    def _run_as_kwargs(self) -> dict:
        if self._account is None:
            return {}
        return {"user": self._account.pw_uid, "group": self._account.pw_gid, "extra_groups": []}

    def _prepare_data_dir(self, bindir: Path) -> None:
        if self._requested_data_dir is None:
            self._temp_root = Path(tempfile.mkdtemp(prefix="streamload-pg-"))
            self.data_dir = self._temp_root / "data"
            self.log_path = self._temp_root / "postgres.log"
        else:
            self.data_dir = self._requested_data_dir
            self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._account is not None:
            _open_traversal(self.data_dir.parent)
            _open_traversal(bindir)
            os.chown(self.data_dir, self._account.pw_uid, self._account.pw_gid)
        if (self.data_dir / "PG_VERSION").exists():
            return
        result = subprocess.run(
            [str(bindir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync"],
            cwd=self.data_dir, capture_output=True, text=True, timeout=120, **self._run_as_kwargs(),
        )
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise PostgresStartError(f"initdb failed in {self.data_dir}: {last}")

    def _launch(self, bindir: Path) -> None:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "logging_collector": "off",
        }
        if _server_major_version(bindir) >= 14:
            # A client killed mid-statement (the Data API server, SIGKILL) leaves its query
            # running until it next writes to the socket; PostgreSQL 14+ can look every
            # second instead, so orphaned statements stop holding locks and connections.
            settings["client_connection_check_interval"] = "1s"
        args = [str(bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.data_dir, preexec_fn=_die_with_parent, **self._run_as_kwargs(),
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise PostgresStartError(f"postgres exited during start-up: {self._log_tail()}")
            if self._answers_from_our_data_dir():
                return
            time.sleep(0.05)
        raise PostgresStartError(f"postgres did not accept connections within {START_TIMEOUT_S:.0f}s: "
                                 f"{self._log_tail()}")

    def _answers_from_our_data_dir(self) -> bool:
        # Another server may already own the port; only our own data directory counts.
        try:
            with psycopg.connect(self.dsn_for("postgres"), connect_timeout=2) as conn:
                served = conn.execute("SHOW data_directory").fetchone()[0]
        except psycopg.OperationalError:
            return False
        if Path(served).resolve() != self.data_dir.resolve():
            time.sleep(0.2)  # give our postmaster time to fail its bind and exit
            return False
        return True

    def _log_tail(self) -> str:
        """The log's most telling line(s), without timestamps, on one line."""
        lines = log_lines(self.log_path)
        if lines is None:
            return "(no log)"
        lines = [re.sub(r"^\S+ \S+ \S+ \[\d+\]\s*", "", ln) for ln in lines]
        telling = [ln for ln in lines if "could not bind" in ln or "FATAL" in ln or "ERROR" in ln]
        return "; ".join(telling[-2:] or lines[-1:] or ["(empty log)"])
