"""A real PostgreSQL server for the tests: started once per test process, on loopback.

The server is Debian's ``postgresql`` package (``scripts/ensure-postgres.sh``
installs it): ``initdb`` into a temporary folder, ``pg_ctl start`` on
127.0.0.1 and a free port, password authentication (so a wrong password is
refused as in production), durability off (``fsync``, ``synchronous_commit``:
a test server loses nothing it needs to keep). PostgreSQL refuses to run as
root, so as root it runs as the ``postgres`` OS user through ``runuser``.
It starts on first use (the contract suite's factory, the ``postgres``
fixture) and stops when the session ends; each test gets an empty store.
With ``FLOWCTL_TEST_POSTGRES`` set to a superuser URL, an existing server
is used instead. Tests skip only when the server's
binaries cannot be found; a server that is there but fails to start fails
them.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flowctl.store import Store, open_store
from flowctl.store.postgres_schema import LATEST, TABLES

ENV = "FLOWCTL_TEST_POSTGRES"
"""A superuser URL (``postgresql://postgres:pw@host:port/postgres``) of a server to use."""
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "60",
}

_names = itertools.count()


def find_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: Debian's newest version, else the PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)] or [0],
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


@dataclass
class PgServer:
    """A running server: ``admin`` is a superuser URL without a database name."""

    admin: str
    folder: Path | None = None
    bindir: Path | None = None
    user: str | None = None
    template: str | None = None
    """A database holding an empty flowctl store: test databases are copies of it."""
    databases: list[str] = field(default_factory=list)
    running: bool = True

    def url(self, database: str) -> str:
        return f"{self.admin}/{database}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql.encode())

    def create_database(self, *, empty: bool = False) -> str:
        """A new database holding an empty store (nothing at all when ``empty``); its URL."""
        name = f"t{os.getpid()}_{next(_names)}"
        copy = self.template if not empty else None
        self.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {copy}" if copy else ""))
        self.databases.append(name)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[-1]
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if name in self.databases:
            self.databases.remove(name)

    def stop(self) -> None:
        """Stop a server this process started (and delete its files), or drop what we made."""
        if not self.running:
            return
        self.running = False
        if self.folder is None:
            for name in [*self.databases, self.template]:
                if name:
                    self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        if self.bindir is not None and (self.folder / "data").is_dir():
            _run(self, [str(self.bindir / "pg_ctl"), "-D", "data", "-m", "immediate", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)


_server: PgServer | None = None
_contract: str | None = None


def server() -> PgServer:
    """The session's server, started on first use (skips the test without binaries)."""
    global _server, _contract
    if _server is None or not _server.running:
        _contract = None
        _spare.clear()
        pg = _external() or _start()
        atexit.register(pg.stop)
        template = f"flowctl_template_{os.getpid()}"
        pg.execute(f"CREATE DATABASE {template}")
        with open_store(pg.url(template)):
            pass  # the store's own layout, created once
        pg.template = template
        _server = pg
    return _server


def fresh_store() -> Store:
    """An empty PostgreSQL store (the contract suite's factory).

    One database serves every call of a test process: emptied row by row
    each time (a millisecond, where a new database takes half a second).
    """
    global _contract
    pg = server()
    if _contract is None:
        _contract = pg.create_database()
    pg.execute(*(f"DELETE FROM {table}" for table in TABLES), database=_contract.rsplit("/")[-1])
    return open_store(_contract)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    """The running server; stopped when the session ends."""
    pg = server()
    yield pg
    pg.stop()


@pytest.fixture
def pg_url(postgres: PgServer) -> Iterator[str]:
    """The URL of a database holding an empty store (emptied and reused after the test)."""
    url = _spare.pop() if _spare else postgres.create_database()
    yield url
    try:
        _empty(postgres, url)
    except Exception:
        postgres.drop_database(url)
    else:
        _spare.append(url)


_spare: list[str] = []


def _empty(pg: PgServer, url: str) -> None:
    """Delete every row, restart the generated keys (a contact's ``cid`` is 1 again, as
    in a new store) and put the layout version back (a test may have changed it)."""
    pg.execute(
        "SET lock_timeout = '2s'",
        f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY",
        f"UPDATE meta SET value = '{LATEST}' WHERE key = 'schema_version'",
        database=url.rsplit("/", 1)[-1],
    )


def _external() -> PgServer | None:
    url = os.environ.get(ENV, "").strip()
    if not url:
        return None
    return PgServer(admin=url.rstrip("/").rsplit("/", 1)[0])


def _start() -> PgServer:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(
            "the PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
            "run scripts/ensure-postgres.sh (apt-get install -y postgresql)"
        )
    folder = Path(tempfile.mkdtemp(prefix="flowctl-pg-"))
    user = _os_user()
    password = secrets.token_hex(12)
    pg = PgServer(admin="", folder=folder, bindir=bindir, user=user)
    (folder / "password").write_text(password + "\n", encoding="utf-8")
    if user is not None:
        uid = pwd.getpwnam(user).pw_uid
        for path in (folder, folder / "password"):
            os.chown(path, uid, -1)
    initdb = [str(bindir / "initdb"), "-D", "data", "-U", "postgres", "--pwfile=password"]
    _run(pg, [*initdb, "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"])
    for attempt in range(3):
        port = _free_port()
        conf = "".join(f"{k} = {v}\n" for k, v in {**SETTINGS, "port": str(port)}.items())
        with (folder / "data" / "postgresql.auto.conf").open("w", encoding="utf-8") as out:
            out.write(conf)
        started = _run(
            pg,
            [str(bindir / "pg_ctl"), "-D", "data", "-l", "server.log", "-w", "-t", "60", "start"],
            check=attempt == 2,
        )
        if started:
            pg.admin = f"postgresql://postgres:{password}@127.0.0.1:{port}"
            return pg
    raise AssertionError("unreachable")


def _os_user() -> str | None:
    """Who runs the server: ourselves, or as root the ``postgres`` user (else ``nobody``)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise AssertionError("running as root and there is no postgres or nobody user to run as")


def _run(pg: PgServer, argv: list[str], *, check: bool = True) -> bool:
    assert pg.folder is not None
    command = ["runuser", "-u", pg.user, "--", *argv] if pg.user else argv
    done = subprocess.run(command, cwd=pg.folder, capture_output=True, text=True, check=False)
    if done.returncode and check:
        log = pg.folder / "server.log"
        raise AssertionError(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            + (log.read_text(encoding="utf-8", errors="replace") if log.exists() else "")
        )
    return done.returncode == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
