"""`flowctl validate`: exit codes, output formats, positions."""

from __future__ import annotations

FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata:
  name: tiny
spec:
  triggers:
    - type: manual
  steps:
    - id: wait
      type: delay
      duraton: 2d
"""


def test_validate_unknown_key_points_at_key(cli, write) -> None:  # type: ignore[no-untyped-def]
    path = write("tiny.yaml", FLOW)
    run = cli("validate", "-o", "json", path)
    assert run.code == 1
    data = run.json()
    assert data["valid"] is False
    assert data["error_count"] == 1
    diag = data["diagnostics"][0]
    assert (diag["line"], diag["column"]) == (11, 7)
    assert diag["rule"] == "schema"
    assert diag["pointer"] == "/spec/steps/0/duraton"
    assert "did you mean 'duration'" in diag["message"]


def test_validate_text_shows_caret_under_column(cli, write) -> None:  # type: ignore[no-untyped-def]
    path = write("tiny.yaml", FLOW)
    run = cli("validate", path)
    lines = run.out.splitlines()
    assert lines[0].startswith(f"{path}:11:7: error: unknown key 'duraton'")
    assert lines[0].endswith("[schema]")
    assert lines[1] == "        duraton: 2d"
    assert lines[2] == "        ^"


def test_validate_valid_file_exit_zero(cli, write) -> None:  # type: ignore[no-untyped-def]
    path = write("tiny.yaml", FLOW.replace("duraton", "duration"))
    run = cli("validate", "-o", "json", path)
    assert run.code == 0
    assert run.json() == {
        "valid": True,
        "files": 1,
        "error_count": 0,
        "warning_count": 0,
        "diagnostics": [],
    }
