"""A private PostgreSQL+PostGIS cluster for development, demos and tests.

When `DATABASE_URL` is unset the project runs its own cluster of the system's
PostgreSQL binaries under the data directory, reachable only through a unix
socket in `<data_dir>/run`. It never touches a system cluster (port 5432), needs
no password and no TCP port, and survives the process that started it, so
`outage db up` is cheap to repeat.

Layout of the data directory:

    <data_dir>/pg            the cluster (PGDATA)
    <data_dir>/run           the unix socket directory
    <data_dir>/pg.port       the port number, picked once
    <data_dir>/postgres.log  the server log

A standby of a running private cluster (`start_standby`, a streaming-replication copy made
by pg_basebackup) has the same layout under a data directory of its own.

PostgreSQL refuses to run as root, so when we are root the server and its
tools run as the unprivileged `postgres` system user that Debian's package
creates, and the cluster's files belong to that user.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlsplit

import psycopg2

if TYPE_CHECKING:
    from outage.settings import Settings

__all__ = [
    "ClusterError",
    "database_url",
    "ensure_running",
    "find_pg_bindir",
    "start_standby",
    "stop",
    "url",
]

ROLE = "outage"
DATABASE = "outage"
SERVICE_USER = "postgres"
"""The system user the server runs as when we are root."""

# Where Debian's postgresql-<v> and postgresql-<v>-postgis-3 packages put their files;
# module attributes so tests can point them at a fake tree.
PG_LIB_ROOT = Path("/usr/lib/postgresql")
PG_SHARE_ROOT = Path("/usr/share/postgresql")

MAX_SOCKET_PATH = 100
"""Unix socket paths are limited to 107 bytes (sun_path); keep a margin."""

START_TIMEOUT_S = 60

_PORT_FILE = "pg.port"
_LOG_FILE = "postgres.log"
_LOCK_FILE = ".pgcluster.lock"
_CONF_FILE = "outage.conf"
# Settings that trade durability for speed; only for throwaway test clusters.
_FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class ClusterError(RuntimeError):
    """The private cluster cannot be found, created, started or stopped."""


@dataclass(frozen=True)
class _Layout:
    root: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "pg"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def port_file(self) -> Path:
        return self.root / _PORT_FILE

    @property
    def log(self) -> Path:
        return self.root / _LOG_FILE

    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").is_file()


@dataclass(frozen=True)
class _RunAs:
    """Whom to run the server tools as: ourselves, or the service user when we are root."""

    user: pwd.struct_passwd | None

    @classmethod
    def detect(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls(None)
        try:
            return cls(pwd.getpwnam(SERVICE_USER))
        except KeyError:
            raise ClusterError(
                f"running as root, and PostgreSQL refuses to run as root; the system user "
                f"{SERVICE_USER!r} (created by Debian's postgresql package) does not exist. "
                "Install the postgresql package or run as an unprivileged user."
            ) from None

    def chown(self, path: Path) -> None:
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def run(
        self, args: Sequence[str | Path], *, cwd: Path, new_session: bool = False
    ) -> subprocess.CompletedProcess[str]:
        # The caller's PG* variables (PGDATA, PGPORT, ...) must not leak into our cluster.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        uid = gid = groups = None
        if self.user is not None:
            env["HOME"] = self.user.pw_dir
            env["USER"] = env["LOGNAME"] = self.user.pw_name
            uid, gid = self.user.pw_uid, self.user.pw_gid
            groups = os.getgrouplist(self.user.pw_name, gid)
        try:
            return subprocess.run(
                [str(a) for a in args],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
                start_new_session=new_session,
                user=uid,
                group=gid,
                extra_groups=groups,
            )
        except OSError as exc:
            raise ClusterError(f"cannot run {args[0]}: {exc}") from exc


def find_pg_bindir() -> Path:
    """Return the bin directory of the newest PostgreSQL that has PostGIS installed.

    Debian installs several major versions side by side; the cluster must use one
    whose PostGIS extension exists, or `CREATE EXTENSION postgis` fails much later.
    """
    versions = sorted(
        (
            int(p.parent.parent.name)
            for p in PG_LIB_ROOT.glob("*/bin/initdb")
            if p.parent.parent.name.isdigit()
        ),
        reverse=True,
    )
    for v in versions:
        if (PG_SHARE_ROOT / str(v) / "extension" / "postgis.control").is_file():
            return PG_LIB_ROOT / str(v) / "bin"
    if versions:
        v = versions[0]
        raise ClusterError(
            f"PostgreSQL {v} is installed but PostGIS is not: install the Debian package "
            f"postgresql-{v}-postgis-3 (e.g. `apt-get install postgresql-{v}-postgis-3`, "
            "or run scripts/bootstrap.sh)."
        )
    bindir, v_pg = _from_pg_config()
    if bindir is not None:
        return bindir
    hint = f"postgresql-{v_pg}-postgis-3" if v_pg else "postgresql-<version>-postgis-3"
    raise ClusterError(
        "no PostgreSQL server with PostGIS found: install the Debian packages postgresql and "
        f"{hint} (e.g. `apt-get install postgresql postgresql-15-postgis-3`, "
        "or run scripts/bootstrap.sh), or set DATABASE_URL to an existing PostGIS database."
    )


def _from_pg_config() -> tuple[Path | None, str | None]:
    """Ask pg_config (non-Debian layouts); return (bindir with PostGIS or None, major version)."""
    exe = shutil.which("pg_config")
    if exe is None:
        return None, None

    def ask(flag: str) -> str:
        out = subprocess.run([exe, flag], capture_output=True, text=True, check=False)
        return out.stdout.strip() if out.returncode == 0 else ""

    bindir, sharedir = ask("--bindir"), ask("--sharedir")
    match = re.search(r"(\d+)", ask("--version"))
    major = match.group(1) if match else None
    if not bindir or not (Path(bindir) / "initdb").is_file():
        return None, major
    if not (Path(sharedir) / "extension" / "postgis.control").is_file():
        return None, major
    return Path(bindir), major


def ensure_running(data_dir: Path, *, fast: bool = False) -> str:
    """Create the private cluster if needed, start it if needed, and return its URL.

    Safe to call again and again (and from concurrent processes): a running cluster
    is left alone. `fast=True` turns off fsync and friends; use it only for test
    clusters whose data may be lost on a crash. It takes effect when the server starts.
    """
    with _prepared(data_dir) as (layout, bindir, runner):
        port = _port(layout)
        if not layout.initialised:
            _initdb(layout, bindir, runner, fast=fast)
        status = _server_status(layout)
        if status is None:
            _start(layout, bindir, runner, port, fast=fast)
            status = _server_status(layout)
            if status is None:
                raise ClusterError(
                    f"PostgreSQL reported a start but is not running.{_log_tail(layout)}"
                )
        port, sockdir = status
        _ensure_database(sockdir, port)
        return _url(sockdir, port)


@contextlib.contextmanager
def _prepared(data_dir: Path) -> Iterator[tuple[_Layout, Path, _RunAs]]:
    """The cluster's layout, binaries and user, its directory made and locked: what
    creating or starting a cluster (primary or standby) begins with."""
    layout = _Layout(Path(data_dir).expanduser().resolve())
    _check_socket_path(layout.run)
    bindir = find_pg_bindir()
    runner = _RunAs.detect()
    with _permission_errors(layout):
        _make_data_dir(layout.root, runner)
        with _locked(layout):
            yield layout, bindir, runner


def stop(data_dir: Path) -> bool:
    """Stop the private cluster (fast shutdown); return False when it was not running."""
    layout = _Layout(Path(data_dir).expanduser().resolve())
    with _permission_errors(layout):
        if not layout.initialised or _server_status(layout) is None:
            return False
        bindir = find_pg_bindir()
        runner = _RunAs.detect()
        with _locked(layout):
            if _server_status(layout) is None:
                return False
            res = runner.run(
                [
                    bindir / "pg_ctl",
                    "stop",
                    "-D",
                    layout.pgdata,
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                ],
                cwd=layout.root,
            )
            if res.returncode != 0:
                raise ClusterError(f"pg_ctl stop failed: {(res.stderr or res.stdout).strip()}")
    return True


def url(data_dir: Path) -> str | None:
    """Return the URL of the private cluster when it is running, else None."""
    layout = _Layout(Path(data_dir).expanduser().resolve())
    with _permission_errors(layout):
        status = _server_status(layout) if layout.initialised else None
    return None if status is None else _url(status[1], status[0])


def database_url(settings: Settings) -> str:
    """The database to use: `DATABASE_URL` when set, else the private cluster (started)."""
    if settings.database_url:
        return settings.database_url
    return ensure_running(settings.data_dir)


def start_standby(primary_url: str, data_dir: Path) -> str:
    """Make a streaming-replication standby of the private cluster at `primary_url` in
    `data_dir` (which must not hold a cluster), start it, and return the URL of the same
    database on it.

    The primary must allow local replication connections (initdb's pg_hba.conf does; the
    line is added and the configuration reloaded when it is missing). The standby is a
    cluster like the primary, with its own port and socket: `stop(data_dir)` stops it.
    """
    sockdir, port, database = _socket_of(primary_url)
    with _prepared(data_dir) as (layout, bindir, runner):
        if layout.pgdata.exists():
            raise ClusterError(f"{layout.pgdata} exists: a standby is made afresh")
        _allow_replication(sockdir, port)
        res = runner.run(
            [
                bindir / "pg_basebackup",
                "-D",
                layout.pgdata,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "-h",
                sockdir,
                "-p",
                str(port),
                "-U",
                ROLE,
                "--no-sync",
            ],
            cwd=layout.root,
        )
        if res.returncode != 0:
            shutil.rmtree(layout.pgdata, ignore_errors=True)
            raise ClusterError(f"pg_basebackup failed: {(res.stderr or res.stdout).strip()}")
        standby_port = _port(layout)
        _start(layout, bindir, runner, standby_port, fast=True)
        status = _server_status(layout)
        if status is None:
            raise ClusterError(f"the standby is not running.{_log_tail(layout)}")
        _wait_in_recovery(status[1], status[0])
        return _url(status[1], status[0], database)


def _socket_of(url: str) -> tuple[Path, int, str]:
    """(socket dir, port, database) of a URL of a private cluster."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "host" not in query or "port" not in query:
        raise ClusterError(f"not a URL of a private cluster (no socket and port): {url}")
    return Path(query["host"][0]), int(query["port"][0]), parts.path.lstrip("/") or DATABASE


_REPLICATION_LINE = "local   replication     all                                     trust"


def _allow_replication(sockdir: Path, port: int) -> None:
    """Make sure the primary takes local replication connections (pg_basebackup's)."""
    conn = _connect(sockdir, port)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SHOW hba_file")
            row = cur.fetchone()
            assert row is not None
            hba = Path(row[0])
            lines = hba.read_text().splitlines()
            if any(line.split()[:3] == ["local", "replication", "all"] for line in lines if line):
                return
            with open(hba, "a") as fh:
                fh.write(f"\n{_REPLICATION_LINE}\n")
            cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()


def _wait_in_recovery(sockdir: Path, port: int) -> None:
    """Wait until the standby takes connections and says it is in recovery."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            conn = _connect(sockdir, port)
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_is_in_recovery()")
                    row = cur.fetchone()
                    if row is not None and row[0]:
                        return
            finally:
                conn.close()
        except (psycopg2.Error, ClusterError):
            pass
        if time.monotonic() > deadline:
            raise ClusterError("the standby did not come up in recovery")
        time.sleep(0.1)


def _connect(sockdir: Path, port: int) -> psycopg2.extensions.connection:
    try:
        return psycopg2.connect(
            dbname="postgres", user=ROLE, host=str(sockdir), port=port, connect_timeout=10
        )
    except psycopg2.Error as exc:
        raise ClusterError(f"cannot connect to the private cluster: {exc}".strip()) from exc


# --- internals ---------------------------------------------------------------------------


def _url(sockdir: Path, port: int, database: str = DATABASE) -> str:
    return (
        f"postgresql+psycopg2://{ROLE}@/{database}?host={quote(str(sockdir), safe='/')}&port={port}"
    )


def _check_socket_path(run: Path) -> None:
    longest = os.fsencode(run / ".s.PGSQL.65535")
    if len(longest) >= MAX_SOCKET_PATH:
        raise ClusterError(
            f"the data directory path is too long for a unix socket ({len(longest)} bytes in "
            f"{os.fsdecode(longest)!r}, limit {MAX_SOCKET_PATH}): choose a shorter "
            "OUTAGE_DATA_DIR."
        )


@contextlib.contextmanager
def _permission_errors(layout: _Layout) -> Iterator[None]:
    """Turn "permission denied" into advice: the cluster usually belongs to another user."""
    try:
        yield
    except PermissionError as exc:
        raise ClusterError(
            f"permission denied on the private cluster in {layout.root} ({exc.strerror}: "
            f"{exc.filename}); it was probably created by another user (as root the server "
            f"runs as {SERVICE_USER!r}). Use that user, or remove {layout.root} to start afresh."
        ) from exc


def _make_data_dir(root: Path, runner: _RunAs) -> None:
    """Create the data directory and make sure the server's user can reach and write it."""
    missing = [p for p in (root, *root.parents) if not p.exists()]
    if runner.user is not None:
        # Check before creating anything, so a failure leaves no litter behind.
        _check_traversable(root, runner.user)
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        path.chmod(0o755)  # whatever the umask: the service user must traverse it
    if not root.is_dir():
        raise ClusterError(f"{root} exists and is not a directory")
    runner.chown(root)


def _check_traversable(root: Path, user: pwd.struct_passwd) -> None:
    """Fail clearly when a parent directory keeps the service user out.

    Otherwise initdb or the server fails with a terse "permission denied" (pytest's
    and mkdtemp's 0700 directories are the usual culprits).
    """
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for parent in root.parents:
        if not parent.exists():
            continue  # we create it, traversable
        st = parent.stat()
        if st.st_uid == user.pw_uid:
            ok = bool(st.st_mode & stat.S_IXUSR)
        elif st.st_gid in groups:
            ok = bool(st.st_mode & stat.S_IXGRP)
        else:
            ok = bool(st.st_mode & stat.S_IXOTH)
        if not ok:
            raise ClusterError(
                f"running as root, so PostgreSQL runs as the {user.pw_name!r} user, which "
                f"cannot traverse {parent} (mode {stat.filemode(st.st_mode)}) to reach "
                f"{root}: use a data directory under a path that user can traverse, or "
                f"`chmod o+x {parent}`."
            )


@contextlib.contextmanager
def _locked(layout: _Layout) -> Iterator[None]:
    """Serialise initdb/start/stop between processes (two CLIs, parallel test workers)."""
    with open(layout.root / _LOCK_FILE, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _port(layout: _Layout) -> int:
    """The cluster's port, picked once: it names the socket and must not change."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        port = int(layout.port_file.read_text().strip())
        if 0 < port < 65536:
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    tmp = layout.port_file.with_suffix(".tmp")
    tmp.write_text(f"{port}\n")
    tmp.replace(layout.port_file)
    return port


def _initdb(layout: _Layout, bindir: Path, runner: _RunAs, *, fast: bool) -> None:
    # initdb into a scratch directory and rename it into place, so an interrupted
    # initdb never leaves a half-made cluster behind.
    scratch = layout.root / "pg.initdb-tmp"
    if scratch.exists():
        shutil.rmtree(scratch)
    if layout.pgdata.exists():
        if any(layout.pgdata.iterdir()):
            raise ClusterError(
                f"{layout.pgdata} exists but is not a PostgreSQL cluster; move it away."
            )
        layout.pgdata.rmdir()
    scratch.mkdir(mode=0o700)
    runner.chown(scratch)
    args: list[str | Path] = [
        bindir / "initdb",
        "-D",
        scratch,
        "-U",
        ROLE,
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
    ]
    if fast:
        args.append("--no-sync")
    res = runner.run(args, cwd=layout.root)
    if res.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise ClusterError(f"initdb failed:\n{(res.stderr or res.stdout).strip()}")
    with open(scratch / "postgresql.conf", "a") as fh:
        fh.write(
            f"\n# Port, socket and speed settings: see outage.pgcluster.\n"
            f"include_if_exists = '{_CONF_FILE}'\n"
        )
    scratch.rename(layout.pgdata)


def _conf_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _start(layout: _Layout, bindir: Path, runner: _RunAs, port: int, *, fast: bool) -> None:
    layout.run.mkdir(mode=0o700, exist_ok=True)  # trust auth: only the owner (and root) connect
    runner.chown(layout.run)
    _clear_stale_locks(layout)
    settings = {
        "port": str(port),
        "listen_addresses": _conf_value(""),
        "unix_socket_directories": _conf_value(str(layout.run)),
        "unix_socket_permissions": "0700",
    }
    if fast:
        settings.update(_FAST_SETTINGS)
    conf = layout.pgdata / _CONF_FILE
    conf.write_text(
        "# Written by outage.pgcluster at each start; edits are lost.\n"
        + "".join(f"{k} = {v}\n" for k, v in settings.items())
    )
    runner.chown(conf)
    layout.log.touch()
    runner.chown(layout.log)
    res = runner.run(
        [
            bindir / "pg_ctl",
            "start",
            "-D",
            layout.pgdata,
            "-l",
            layout.log,
            "-w",
            "-t",
            str(START_TIMEOUT_S),
        ],
        cwd=layout.root,
        new_session=True,  # Ctrl-C in the terminal that started it must not stop it
    )
    if res.returncode != 0:
        raise ClusterError(
            f"PostgreSQL did not start: {(res.stderr or res.stdout).strip()}{_log_tail(layout)}"
        )


def _log_tail(layout: _Layout, lines: int = 15) -> str:
    try:
        tail = layout.log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"\nlast lines of {layout.log}:\n" + "\n".join(tail) if tail else ""


def _read_pidfile(layout: _Layout) -> list[str] | None:
    try:
        return (layout.pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _is_postgres(pid: int) -> bool:
    """Whether pid is a live PostgreSQL process (not a zombie, not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc: trust the pid
    # "pid (comm) state ...": comm may hold spaces and parentheses.
    comm = stat_line[stat_line.find("(") + 1 : stat_line.rfind(")")]
    state = stat_line[stat_line.rfind(")") + 2 :][:1]
    # A killed server whose parent (often pid 1 in a container) never reaps it stays
    # a zombie, which kill() still finds.
    return comm.startswith("postgres") and state not in ("Z", "X")


def _server_status(layout: _Layout) -> tuple[int, Path] | None:
    """(port, socket dir) of the running server, from its postmaster.pid; None if not running."""
    lines = _read_pidfile(layout)
    if not lines or len(lines) < 5 or not lines[0].strip().isdigit():
        return None
    if not _is_postgres(int(lines[0])):
        return None
    try:
        port = int(lines[3])
    except ValueError:
        return None
    sockdir = Path(lines[4].strip()) if lines[4].strip() else layout.run
    return port, sockdir


def _clear_stale_locks(layout: _Layout) -> None:
    """Remove lock files whose pid now belongs to another process (e.g. after a reboot).

    PostgreSQL itself only ignores lock files of dead processes, and in containers
    pids are reused quickly.
    """
    candidates = [layout.pgdata / "postmaster.pid", *layout.run.glob(".s.PGSQL.*.lock")]
    for lock in candidates:
        try:
            first = lock.read_text().splitlines()[0].strip()
        except (OSError, IndexError):
            continue
        if first.lstrip("-").isdigit() and not _is_postgres(abs(int(first))):
            lock.unlink(missing_ok=True)


def _ensure_database(sockdir: Path, port: int) -> None:
    try:
        conn = psycopg2.connect(
            dbname="postgres", user=ROLE, host=str(sockdir), port=port, connect_timeout=10
        )
    except psycopg2.Error as exc:
        raise ClusterError(f"cannot connect to the private cluster: {exc}".strip()) from exc
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DATABASE}"')
    except psycopg2.Error as exc:
        raise ClusterError(f"cannot create database {DATABASE!r}: {exc}".strip()) from exc
    finally:
        conn.close()
