"""A temporary PostgreSQL cluster for the ledger's tests and benchmark.

PostgreSQL refuses to run as root: when the caller is root, the cluster runs as an
unprivileged system user (created if needed). It listens on a free port of 127.0.0.1 and a
socket in its own temporary folder, and is stopped and removed afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: the unprivileged user the cluster runs as when the caller is root
USER = "fulfillmap-pg"
MISSING = (
    "no PostgreSQL server: install PostgreSQL 15 (apt-get install postgresql-15) or set "
    "FULFILLMAP_TEST_POSTGRES to a server's URL"
)


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl (the newest PostgreSQL installed), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam(USER)
    except KeyError:
        useradd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        subprocess.run([*useradd, USER], check=True)
    return ["runuser", "-u", USER, "--", *command]


def _run(*command: str) -> None:
    done = subprocess.run(_as_user(list(command)), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


@contextmanager
def temporary_cluster() -> Iterator[str]:
    """Start a cluster; its URL (user postgres, database postgres, trust auth on 127.0.0.1)."""
    found = binaries()
    if found is None:
        raise RuntimeError(MISSING)
    folder = Path(tempfile.mkdtemp(prefix="fulfillmap-pg-"))
    if os.geteuid() == 0:
        _as_user(["true"])  # creates the user
        shutil.chown(folder, USER)
    folder.chmod(0o700)
    data, port = folder / "data", _free_port()
    initdb, pg_ctl = str(found / "initdb"), str(found / "pg_ctl")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c max_connections=100"
    try:
        _run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        _run(pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            _run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
