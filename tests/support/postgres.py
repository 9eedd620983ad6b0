"""Throwaway PostgreSQL 15 cluster on 127.0.0.1 for tests (run as root; server runs as `postgres`)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Self

import psycopg
from psycopg import sql

from .rtsp import HOST, free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"


def as_postgres(*cmd: str | Path) -> list[str]:
    """Prefix a command so it runs as the postgres system user (initdb refuses root)."""
    return ["runuser", "-u", PG_USER, "--", *map(str, cmd)]


class PostgresServer:
    """initdb + pg_ctl start in a temp dir; trust auth, fsync off; `stop()` deletes everything."""

    def __init__(self, dbname: str = "nvr_test", port: int | None = None) -> None:
        self.dbname = dbname
        self.port = port if port is not None else free_port()
        self._dir: Path | None = None

    @property
    def data_dir(self) -> Path:
        """Cluster data directory."""
        assert self._dir is not None, "PostgresServer not started"
        return self._dir / "data"

    @property
    def log_path(self) -> Path:
        """Server log file."""
        assert self._dir is not None, "PostgresServer not started"
        return self._dir / "postgres.log"

    def url(self, dbname: str | None = None) -> str:
        """SQLAlchemy URL for a database (default: the one created at start)."""
        return f"postgresql+psycopg://{PG_USER}@{HOST}:{self.port}/{dbname or self.dbname}"

    def start(self, timeout: int = 30) -> None:
        """Create the cluster, start it, and create `self.dbname`."""
        self._dir = Path(tempfile.mkdtemp(prefix="nvr-pg-"))
        shutil.chown(self._dir, PG_USER, PG_USER)
        try:
            self._run(PG_BIN / "initdb", "-D", self.data_dir, "-U", PG_USER, "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync")
            self.resume(timeout)
            self.create_database(self.dbname)
        except Exception as e:
            tail = self._log_tail()
            self.stop()
            raise RuntimeError(f"PostgreSQL on port {self.port} failed to start: {e}\nlog tail:\n{tail}") from None

    def pause(self) -> None:
        """Stop the server, cutting every open connection as a lost link would, keeping its data. A fast
        shutdown, not an immediate one: with fsync and synchronous_commit off (above), an immediate one would
        also lose the last commits, which a real server does not."""
        self._run(PG_BIN / "pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop")

    def resume(self, timeout: int = 30) -> None:
        """Start the cluster's server (again, after `pause`), on the same port."""
        options = (
            f"-c listen_addresses={HOST} -p {self.port} -c unix_socket_directories={self._dir}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(PG_BIN / "pg_ctl", "-D", self.data_dir, "-l", self.log_path, "-o", options,
                  "-w", "-t", str(timeout), "start")

    def _run(self, *cmd: str | Path) -> None:
        """Run a command as postgres; raise with its output on failure."""
        r = subprocess.run(as_postgres(*cmd), capture_output=True, text=True, cwd=self._dir, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"{Path(cmd[0]).name} exited {r.returncode}: {r.stdout[-2000:]}{r.stderr[-2000:]}")

    def _log_tail(self, limit: int = 4000) -> str:
        """Last `limit` characters of the server log, if any."""
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def create_database(self, name: str) -> None:
        """CREATE DATABASE name."""
        with psycopg.connect(host=HOST, port=self.port, user=PG_USER, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def stop(self) -> None:
        """Stop the server immediately and delete the cluster."""
        if self._dir is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(as_postgres(PG_BIN / "pg_ctl", "-D", self.data_dir, "-m", "immediate", "-w", "stop"),
                           capture_output=True, cwd=self._dir, check=False)
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
