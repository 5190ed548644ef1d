"""The operating commands as a command line: where the store is, exit codes, clear
errors without tracebacks, confirmation on a terminal."""

from __future__ import annotations

import io
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from flowctl.store import FLOW, open_store
from tests.conftest import FLOWS, Run
from tests.operate.test_apply import (
    CONTENT,
    FLOW_V1,
    FLOW_V2,
    NOW,
    P,
    add_participants,
    parse_yaml,
    read,
    seed,
)

Cli = Callable[..., Run]
Write = Callable[[str, str], Path]

# Every operating command that takes a flow name, with the arguments it needs.
FLOW_COMMANDS = {
    "activate": ["activate", "{name}"],
    "pause": ["pause", "{name}"],
    "resume": ["resume", "{name}"],
    "deactivate": ["deactivate", "{name}"],
    "delete": ["delete", "{name}"],
    "rollback": ["rollback", "{name}", "--to", "1"],
}


def command(name: str, flow: str) -> list[str]:
    return [a.format(name=flow) for a in FLOW_COMMANDS[name]]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWCTL_NOW", NOW)
    monkeypatch.setenv("FLOWCTL_USER", "ann")
    monkeypatch.delenv("FLOWCTL_STORE", raising=False)
    monkeypatch.delenv("FLOWCTL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "flowctl.db")


@pytest.fixture
def files(write: Write) -> tuple[Path, Path]:
    return write("flows/demo.yaml", FLOW_V1), write("flows/content.yaml", CONTENT)


@pytest.fixture
def demo(cli: Cli, store: str, files: tuple[Path, Path]) -> str:
    seed(cli, store, *files)
    return store


class _Terminal(io.StringIO):
    """Standard input that says it is a terminal, with the user's answers in it."""

    def isatty(self) -> bool:
        return True


# -- where the store is -----------------------------------------------------


def test_store_from_the_environment(
    cli: Cli, store: str, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = str(Path(store).with_name("from-env.db"))
    monkeypatch.setenv("FLOWCTL_STORE", elsewhere)
    run = cli("apply", *files)
    assert run.code == 0, run.err
    with read(elsewhere) as st:
        assert st.flow("demo") is not None
    assert not (Path.cwd() / "flowctl.db").exists()


def test_store_as_a_global_option_and_as_a_url(
    cli: Cli, store: str, files: tuple[Path, Path]
) -> None:
    run = cli("--store", store, "apply", *files)
    assert run.code == 0, run.err
    activated = cli("activate", "demo", "--store", f"sqlite:///{store}")
    assert activated.code == 0, activated.err
    with read(store) as st:
        row = st.flow("demo")
        assert row is not None and row.state == "active"


def test_default_store_is_flowctl_db_in_the_current_folder(
    cli: Cli, files: tuple[Path, Path], tmp_path: Path
) -> None:
    run = cli("apply", *files)
    assert run.code == 0, run.err
    with read(str(tmp_path / "flowctl.db")) as st:
        assert st.flow("demo") is not None


def test_apply_to_a_store_in_a_missing_folder_is_a_usage_error(
    cli: Cli, tmp_path: Path, files: tuple[Path, Path]
) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "flowctl.db"
    run = cli("apply", *files, "--store", missing)
    assert run.code == 2
    assert "does not exist" in run.err
    assert "Traceback" not in run.err
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    "args",
    [
        *(command(name, "demo") for name in FLOW_COMMANDS),
        ["diff", "{flow}"],
        ["apply", "--dry-run", "{flow}"],
    ],
    ids=[*FLOW_COMMANDS, "diff", "apply-dry-run"],
)
def test_any_command_with_a_store_in_a_missing_folder_is_a_usage_error(
    cli: Cli, tmp_path: Path, files: tuple[Path, Path], args: list[str]
) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "flowctl.db"
    argv = [a.format(flow=files[0]) for a in args]
    run = cli(*argv, "--store", missing)
    assert run.code == 2
    assert "does not exist" in run.err
    assert "Traceback" not in run.err


def test_a_folder_as_the_store_is_named_as_one(cli: Cli, tmp_path: Path) -> None:
    run = cli("get", "flows", "--store", tmp_path)
    assert run.code == 1 and f"the store {tmp_path} is a folder, not a file" in run.err


def test_flowctl_now_that_is_not_an_instant_is_a_usage_error(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWCTL_NOW", "soon")
    run = cli("get", "flows", "--store", tmp_path / "s.db")
    assert run.code == 2 and "is not an instant" in run.err


@pytest.mark.parametrize(
    "args",
    [
        ["apply", "{flow}"],
        ["apply", "--dry-run", "{flow}"],
        ["diff", "{flow}"],
        *(command(name, "demo") for name in FLOW_COMMANDS),
    ],
    ids=["apply", "apply-dry-run", "diff", *FLOW_COMMANDS],
)
def test_a_file_that_is_not_a_store_is_refused_and_left_alone(
    cli: Cli, write: Write, files: tuple[Path, Path], args: list[str]
) -> None:
    text = "name,email\nann,ann@example.com\n"
    other = write("contacts.csv", text)
    run = cli(*[a.format(flow=files[0]) for a in args], "--store", other)
    assert run.code == 1
    assert "not a flowctl store" in run.err
    assert "Traceback" not in run.err
    assert other.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("args", [["apply", "{flow}"], ["activate", "demo"]], ids=str)
def test_an_sqlite_file_of_another_program_is_refused_and_left_alone(
    cli: Cli, tmp_path: Path, files: tuple[Path, Path], args: list[str]
) -> None:
    other = tmp_path / "crm.sqlite"
    conn = sqlite3.connect(other)
    with conn:
        conn.execute("CREATE TABLE people (name TEXT)")
        conn.execute("INSERT INTO people VALUES ('ann')")
    conn.close()
    before = other.read_bytes()
    run = cli(*[a.format(flow=files[0]) for a in args], "--store", other)
    assert run.code == 1
    assert "not a flowctl store" in run.err
    assert other.read_bytes() == before


def test_an_sqlite_file_of_another_program_is_refused(
    cli: Cli, tmp_path: Path, files: tuple[Path, Path]
) -> None:
    other = tmp_path / "crm.sqlite"
    conn = sqlite3.connect(other)
    with conn:
        conn.execute("CREATE TABLE people (name TEXT)")
    conn.close()
    run = cli("apply", *files, "--store", other)
    assert run.code == 1
    assert "not a flowctl store" in run.err
    conn = sqlite3.connect(other)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert tables == {"people"}  # no flowctl tables added


def test_unreachable_postgresql_store_is_one_clear_message(
    cli: Cli, files: tuple[Path, Path]
) -> None:
    run = cli("apply", *files, "--store", "postgresql://flowctl:secret@db.invalid/flows")
    assert run.code in (1, 2)
    assert "PostgreSQL" in run.err or "postgresql" in run.err
    assert "secret" not in run.err  # the password is never shown
    assert "Traceback" not in run.err


# -- unknown names and usage errors -----------------------------------------


@pytest.mark.parametrize("name", list(FLOW_COMMANDS))
def test_unknown_flow_is_one_clear_message(cli: Cli, demo: str, name: str) -> None:
    run = cli(*command(name, "nope"), "--store", demo)
    assert run.code == 1
    assert "there is no flow 'nope'" in run.err
    assert "Traceback" not in run.err
    assert len([line for line in run.err.splitlines() if line.startswith("error:")]) == 1
    assert run.out == ""


@pytest.mark.parametrize("name", list(FLOW_COMMANDS))
def test_misspelt_flow_gets_a_suggestion(cli: Cli, demo: str, name: str) -> None:
    run = cli(*command(name, "demmo"), "--store", demo)
    assert run.code == 1
    assert "did you mean 'demo'?" in run.err


@pytest.mark.parametrize("name", list(FLOW_COMMANDS))
def test_unknown_flow_in_an_empty_or_missing_store(cli: Cli, store: str, name: str) -> None:
    run = cli(*command(name, "demo"), "--store", store)
    assert run.code == 1
    assert "there is no flow 'demo'" in run.err
    assert "Traceback" not in run.err
    assert not Path(store).exists()  # asking leaves no store behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rollback", "demo"], "Missing option '--to'"),
        (["rollback", "demo", "--to", "one"], "--to"),
        (["apply"], "Missing argument"),
        (["diff"], "Missing argument"),
        (["activate"], "Missing argument"),
        (["apply", "does/not/exist.yaml"], "no such file or directory"),
        (["diff", "does/not/exist.yaml"], "no such file or directory"),
        (["delete", "thing/demo"], "names no flow or content"),
        (["pause", "demo", "-o", "xml"], "'xml' is not one of"),
    ],
)
def test_usage_errors_exit_two(cli: Cli, demo: str, args: list[str], message: str) -> None:
    run = cli(*args, "--store", demo)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err


def test_bad_flowctl_now_is_a_usage_error(
    cli: Cli, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWCTL_NOW", "next tuesday")
    run = cli("activate", "demo", "--store", demo)
    assert run.code == 2
    assert "FLOWCTL_NOW" in run.err
    with read(demo) as st:
        row = st.flow("demo")
        assert row is not None and row.state == "draft"


def test_missing_config_file_is_a_usage_error(cli: Cli, demo: str) -> None:
    run = cli("--config", "nowhere.toml", "activate", "demo", "--store", demo)
    assert run.code == 2
    assert "nowhere.toml" in run.err


# -- output streams ---------------------------------------------------------


def test_apply_json_stays_parseable_with_warnings(cli: Cli, store: str, write: Write) -> None:
    flow = write("flows/demo.yaml", FLOW_V1)  # its mailings are nowhere: warnings
    run = cli("apply", flow, "--store", store, "-o", "json")
    assert run.code == 0, run.err
    assert "unknown-content-ref" in run.err
    assert run.json() == [{"kind": "Flow", "name": "demo", "result": "created", "version": 1}]


def test_apply_of_every_example_prints_one_line_per_document(cli: Cli, store: str) -> None:
    run = cli("apply", FLOWS, "--store", store)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert all(line.endswith(" created") for line in lines)
    assert all(line.split("/")[0] in {"flow", "mailing", "sms"} for line in lines)
    with read(store) as st:
        assert len(lines) == len(st.documents())


def test_diff_prints_only_the_diff(cli: Cli, demo: str, files: tuple[Path, Path]) -> None:
    files[0].write_text(FLOW_V2, encoding="utf-8")
    run = cli("diff", *files, "--store", demo)
    assert run.code == 1
    assert run.out.startswith("--- ")
    assert all(line[:1] in {"-", "+", " ", "@"} for line in run.out.splitlines())
    with read(demo) as st:
        doc = st.document(FLOW, "demo")
    assert doc is not None and doc.document == parse_yaml(FLOW_V1)


# -- confirmation on a terminal ---------------------------------------------


def test_activate_asks_on_a_terminal(cli: Cli, demo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    declined = cli("activate", "demo", "--store", demo)
    assert declined.code == 1
    assert "Activate flow/demo?" in declined.err
    with read(demo) as st:
        row = st.flow("demo")
        assert row is not None and row.state == "draft"

    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    accepted = cli("activate", "demo", "--store", demo)
    assert accepted.code == 0, accepted.err
    with read(demo) as st:
        row = st.flow("demo")
        assert row is not None and row.state == "active"


def test_activate_yes_skips_the_question(
    cli: Cli, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(""))
    run = cli("activate", "demo", "--yes", "--store", demo)
    assert run.code == 0, run.err
    assert "Activate" not in run.err


def test_refused_activation_does_not_ask_first(
    cli: Cli, store: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(cli, store, write("flows/demo.yaml", FLOW_V1))  # no content
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    run = cli("activate", "demo", "--store", store)
    assert run.code == 1
    assert "Activate flow/demo?" not in run.err
    assert "mailing/m-hello" in run.err


def test_deactivate_states_the_impact_before_it_asks(
    cli: Cli, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("activate", "demo", "--store", demo).code == 0
    add_participants(demo, [P("w", "waiting", "wait", "delay"), P("a", "active", "bye")])
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    run = cli("deactivate", "demo", "--cancel-scheduled", "--store", demo)
    assert run.code == 1
    impact = run.err.index("2 active participants (1 with a scheduled step)")
    assert impact < run.err.index("Deactivate flow/demo?")
    with open_store(demo, create=False) as st:
        row = st.flow("demo")
        assert row is not None and row.state == "active"
        assert len(st.live_participants("demo")) == 2
