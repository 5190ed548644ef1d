"""What only the SQLite store does: WAL, its layout version, upgrades, and odd files."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from flowctl.errors import InputError, UsageError
from flowctl.store import open_store, sqlite_schema

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to look at the file behind the store's back."""
    with closing(sqlite3.connect(path)) as conn:
        yield conn


def make_store(path: Path) -> None:
    with open_store(str(path)) as store:
        store.set_user("ann", "flow-admin", T0)


def meta_version(path: Path) -> str:
    with raw(path) as conn:
        return str(
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        )


def tables(path: Path) -> set[str]:
    with raw(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    make_store(tmp_path / "s.db")
    with raw(tmp_path / "s.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_schema_version_recorded(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.db")) as store:
        assert store.schema_version == sqlite_schema.LATEST
    assert meta_version(tmp_path / "s.db") == str(sqlite_schema.LATEST)


def test_sqlite_reopen_keeps_data(tmp_path: Path) -> None:
    make_store(tmp_path / "s.db")
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store:
        assert store.users() == {"ann": "flow-admin"}


def test_sqlite_open_without_create_leaves_no_file(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.db"), create=False) as store:
        assert store.flows() == []
    assert not (tmp_path / "s.db").exists()


def test_sqlite_layout_zero_upgraded(tmp_path: Path) -> None:
    with raw(tmp_path / "s.db") as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.commit()
    with open_store(str(tmp_path / "s.db")) as store:
        assert store.schema_version == sqlite_schema.LATEST
        assert store.users() == {}
    assert {"versions", "heads", "contacts", "events", "audit"} <= tables(tmp_path / "s.db")


def _v2(db: Database) -> None:
    db.table("labels").create({"name": str, "value": str}, pk="name")
    db.table("users").add_column("email", str)


def test_sqlite_older_layout_upgraded_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_store(tmp_path / "s.db")
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", (*sqlite_schema.MIGRATIONS, _v2))
    monkeypatch.setattr(sqlite_schema, "LATEST", sqlite_schema.LATEST + 1)
    with open_store(str(tmp_path / "s.db")) as store:
        assert store.schema_version == sqlite_schema.LATEST
        assert store.users() == {"ann": "flow-admin"}
    assert meta_version(tmp_path / "s.db") == str(sqlite_schema.LATEST)
    assert "labels" in tables(tmp_path / "s.db")


def test_sqlite_store_of_layout_two_gains_pauses_and_keeps_its_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old:  # a file made before pauses were recorded
        old.setattr(sqlite_schema, "MIGRATIONS", sqlite_schema.MIGRATIONS[:2])
        old.setattr(sqlite_schema, "LATEST", 2)
        make_store(tmp_path / "s.db")
    assert meta_version(tmp_path / "s.db") == "2"
    with raw(tmp_path / "s.db") as conn:  # a flow paused then, and one running
        for name, state in (("held", "paused"), ("running", "active")):
            conn.execute(
                "INSERT INTO heads VALUES ('Flow', ?, 1, ?, ?, ?, NULL)",
                (
                    name,
                    state,
                    "2026-03-01T08:00:00.000000+00:00",
                    "2026-03-02T08:00:00.000000+00:00",
                ),
            )
        conn.commit()
    with open_store(str(tmp_path / "s.db")) as store:
        assert store.schema_version == sqlite_schema.LATEST
        assert store.users() == {"ann": "flow-admin"}
        [pause] = store.pauses()  # the paused flow's pause, open since its last change
        assert (pause.flow, pause.started_at, pause.ended_at) == (
            "held",
            datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
            None,
        )


def test_sqlite_failing_migration_leaves_old_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_store(tmp_path / "s.db")
    before = sqlite_schema.LATEST

    def broken(db: Database) -> None:
        _v2(db)
        raise RuntimeError("migration bug")

    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", (*sqlite_schema.MIGRATIONS, broken))
    monkeypatch.setattr(sqlite_schema, "LATEST", before + 1)
    with pytest.raises(RuntimeError):
        open_store(str(tmp_path / "s.db"))
    assert meta_version(tmp_path / "s.db") == str(before)
    assert "labels" not in tables(tmp_path / "s.db")


def test_sqlite_newer_layout_refused(tmp_path: Path) -> None:
    make_store(tmp_path / "s.db")
    with raw(tmp_path / "s.db") as conn:
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'",
            (str(sqlite_schema.LATEST + 1),),
        )
        conn.commit()
    with pytest.raises(InputError, match="newer flowctl") as caught:
        open_store(str(tmp_path / "s.db"))
    assert caught.value.hint == "upgrade flowctl"
    assert meta_version(tmp_path / "s.db") == str(sqlite_schema.LATEST + 1)


def test_sqlite_not_a_database_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    before = path.read_bytes()
    with pytest.raises(InputError, match="not an SQLite database"):
        open_store(str(path))
    assert path.read_bytes() == before


def _other_application(path: Path) -> bytes:
    with raw(path) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, title TEXT)")
        conn.execute("INSERT INTO photos (title) VALUES ('fjord')")
        conn.commit()
    return path.read_bytes()


def test_sqlite_other_application_refused(tmp_path: Path) -> None:
    path = tmp_path / "photos.db"
    _other_application(path)
    with pytest.raises(InputError, match="not a flowctl store"):
        open_store(str(path))
    with raw(path) as conn:
        assert conn.execute("SELECT title FROM photos").fetchall() == [("fjord",)]
    assert "meta" not in tables(path)


def test_sqlite_other_application_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "photos.db"
    before = _other_application(path)
    with pytest.raises(InputError):
        open_store(str(path))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos.db"]


def test_sqlite_missing_folder_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        open_store(str(tmp_path / "missing" / "s.db"))
    assert not (tmp_path / "missing").exists()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="permissions do not stop root"
)
def test_sqlite_read_only_folder_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(InputError, match="cannot write"):
            open_store(str(folder / "s.db"))
    finally:
        folder.chmod(0o700)
    assert list(folder.iterdir()) == []


def test_bulk_puts_off_checkpoints_and_copies_the_log_into_the_file_at_its_end(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    with open_store(str(path)) as store:
        conn = store._conn  # type: ignore[attr-defined]

        def every() -> int:
            return int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

        normal = every()
        with store.bulk():
            assert every() > normal
            store.insert_contacts([{"email": f"p{i}@example.com"} for i in range(2000)], T0)
            inside = path.stat().st_size  # the contacts are in the log only
        assert every() == normal
        assert path.stat().st_size > inside + 100_000  # copied into the file at the end
        assert store.count_contacts() == 2000
