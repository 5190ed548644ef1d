"""Exit codes of the command line itself: usage errors are 2 and never a traceback."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "--bogus", "x"], "No such option: --bogus"),
        (["validate"], "Missing argument"),
        (["validate", "-o", "xml", "flows"], "'xml' is not one of"),
        (["no-such-command"], "No such command"),
        (["validate", "does/not/exist.yaml"], "no such file or directory"),
    ],
)
def test_main_usage_error_exit_two(cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    run = cli(*args)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err
