"""Bad input: each gets exit 1 and one clear diagnostic, never a traceback or exit 3."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

Cli = Callable[..., Run]

VALID = """\
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
"""A flow with one schema error: the unknown key 'duraton' on line 11, column 7."""

BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def check_bad(cli: Cli, path: Path | str) -> dict[str, object]:
    """Validate one bad file: exit 1, one error diagnostic, no traceback; returns it."""
    run = cli("validate", "-o", "json", path)
    assert run.code == 1, run.err
    assert "Traceback" not in run.err
    data = run.json()
    assert data["valid"] is False
    (diag,) = data["diagnostics"]
    assert diag["severity"] == "error"
    assert diag["line"] >= 1 and diag["column"] >= 1
    return diag  # type: ignore[no-any-return]


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_bad_input_unreadable_file(cli: Cli, tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "secret.yaml", VALID.encode())
    path.chmod(0)
    try:
        diag = check_bad(cli, path)
    finally:
        path.chmod(0o644)
    assert diag["rule"] == "io-error"
    assert "cannot read the file" in str(diag["message"])


def test_bad_input_dangling_symlink(cli: Cli, tmp_path: Path) -> None:
    link = tmp_path / "gone.yaml"
    link.symlink_to(tmp_path / "nowhere.yaml")
    diag = check_bad(cli, link)
    assert diag["rule"] == "io-error"
    assert "cannot read the file" in str(diag["message"])


def test_bad_input_binary_file(cli: Cli, tmp_path: Path) -> None:
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", bytes(range(256))))
    assert (diag["rule"], diag["line"]) == ("io-error", 1)
    assert "binary" in str(diag["message"])


def test_bad_input_non_utf8(cli: Cli, tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "x.yaml", "a: 1\nb: naïve\n".encode("latin-1"))
    diag = check_bad(cli, path)
    assert (diag["rule"], diag["line"]) == ("io-error", 2)
    assert "UTF-8" in str(diag["message"])


def test_bad_input_utf16_file(cli: Cli, tmp_path: Path) -> None:
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", VALID.encode("utf-16")))
    assert diag["rule"] == "io-error"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n# and another\n"])
def test_bad_input_empty_file(cli: Cli, tmp_path: Path, text: str) -> None:
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert (diag["rule"], diag["line"], diag["column"]) == ("schema", 1, 1)
    assert "holds no YAML document" in str(diag["message"])


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("- a\n- b\n", "found a list"),
        ("just a string\n", "found a single value ('just a string')"),
        ("42\n", "found a single value (42)"),
        ("---\n", "found nothing"),
    ],
)
def test_bad_input_document_not_a_mapping(cli: Cli, tmp_path: Path, text: str, shape: str) -> None:
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert diag["rule"] == "schema"
    assert diag["pointer"] == ""
    assert str(diag["message"]).endswith(shape)
    assert "expected a mapping with apiVersion, kind, metadata and spec" in str(diag["message"])


def test_bad_input_duplicate_key_names_key_and_first_line(cli: Cli, tmp_path: Path) -> None:
    text = VALID.replace("duraton: 2d", "duration: 2d").replace(
        "  name: tiny\n", "  name: tiny\n  title: One\n  name: again\n"
    )
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert (diag["rule"], diag["line"], diag["column"]) == ("yaml-syntax", 6, 3)
    assert 'duplicate key "name" (already defined on line 4)' in str(diag["message"])


def test_bad_input_billion_laughs_rejected_quickly(cli: Cli, tmp_path: Path) -> None:
    # Expanded, this is 9**9 (387 million) strings; it must be refused, not built.
    diag = check_bad(cli, write_bytes(tmp_path, "lol.yaml", BILLION_LAUGHS.encode()))
    assert diag["rule"] == "yaml-syntax"
    assert diag["line"] == 2
    assert "alias bomb" in str(diag["message"])


@pytest.mark.parametrize("text", ["&a [*a]\n", "key: &a {self: *a}\n"])
def test_bad_input_recursive_alias(cli: Cli, tmp_path: Path, text: str) -> None:
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert diag["rule"] == "yaml-syntax"


def test_bad_input_ordinary_aliases_accepted(cli: Cli, tmp_path: Path) -> None:
    text = VALID.replace(
        "duraton: 2d", "duration: &wait 2d\n    - {id: again, type: delay, duration: *wait}"
    )
    path = write_bytes(tmp_path, "x.yaml", text.encode())
    run = cli("validate", "-o", "json", path)
    assert run.code == 0, run.out


@pytest.mark.parametrize(
    ("tag", "shown"),
    [("!!python/object:os.system", "tag:yaml.org,2002:python/object:os.system"), ("!foo", "!foo")],
)
def test_bad_input_unknown_tag(cli: Cli, tmp_path: Path, tag: str, shown: str) -> None:
    text = VALID.replace("duraton: 2d", f"duration: {tag} 2d")
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert (diag["rule"], diag["line"], diag["column"]) == ("yaml-syntax", 11, 17)
    assert f"could not determine a constructor for the tag '{shown}'" in str(diag["message"])


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,
        "".join("  " * depth + "a:\n" for depth in range(2000)),
        "- " * 3000 + "x\n",
        "a: &x 1\nb: *x\nc: " + "[" * 1000 + "]" * 1000 + "\n",
    ],
    ids=["flow-lists", "block-mappings", "block-lists", "with-aliases"],
)
def test_bad_input_deeply_nested(cli: Cli, tmp_path: Path, text: str) -> None:
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert diag["rule"] == "yaml-syntax"
    assert "nests more than 100 levels deep" in str(diag["message"])


def test_bad_input_deeply_nested_condition_reports_first_error(cli: Cli, tmp_path: Path) -> None:
    # Each nested all/any/not doubles jsonschema-rs's error list; 30 levels must not explode.
    condition = "{not: " * 30 + "{tga: x}" + "}" * 30
    text = VALID.replace("duraton: 2d", "duration: 2d").replace(
        "  steps:", f"  filter: {condition}\n  steps:"
    )
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert diag["rule"] == "schema"
    assert str(diag["pointer"]).startswith("/spec/filter/not/not/not")


def test_bad_input_tab_indentation(cli: Cli, tmp_path: Path) -> None:
    text = VALID.replace("      type: delay", "\ttype: delay")
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert (diag["rule"], diag["line"], diag["column"]) == ("yaml-syntax", 10, 1)
    assert "tab" in str(diag["message"])


def test_bad_input_windows_line_endings_positions(cli: Cli, tmp_path: Path) -> None:
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", VALID.replace("\n", "\r\n").encode()))
    assert (diag["rule"], diag["line"], diag["column"]) == ("schema", 11, 7)
    assert diag["pointer"] == "/spec/steps/0/duraton"


def test_bad_input_windows_line_endings_text_output(cli: Cli, tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "x.yaml", VALID.replace("\n", "\r\n").encode())
    lines = cli("validate", path).out.splitlines()
    assert lines[1] == "        duraton: 2d"
    assert lines[2] == "        ^"


def test_bad_input_bom_positions(cli: Cli, tmp_path: Path) -> None:
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", b"\xef\xbb\xbf" + VALID.encode()))
    assert (diag["rule"], diag["line"], diag["column"]) == ("schema", 11, 7)


def test_bad_input_bom_valid_file_exit_zero(cli: Cli, tmp_path: Path) -> None:
    text = VALID.replace("duraton", "duration")
    run = cli("validate", write_bytes(tmp_path, "x.yaml", b"\xef\xbb\xbf" + text.encode()))
    assert run.code == 0


def test_bad_input_stdin_binary_exit_nonzero_without_traceback(cli: Cli) -> None:
    run = cli("validate", "-", stdin="a\x00b")
    assert run.code in (1, 2)
    assert "Traceback" not in run.err
    assert "binary" in run.err + run.out


def test_bad_input_unclosed_quote_points_at_quote(cli: Cli, tmp_path: Path) -> None:
    text = VALID.replace("duraton: 2d", 'duration: "2d\n\n# trailing comment')
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert (diag["rule"], diag["line"], diag["column"]) == ("yaml-syntax", 11, 17)
    assert "end of stream" in str(diag["message"])


def test_bad_input_empty_value_points_at_its_key(cli: Cli, tmp_path: Path) -> None:
    text = VALID.replace("      duraton: 2d\n", "      duration:\n    # comments, then the end\n\n")
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert (diag["rule"], diag["line"], diag["column"]) == ("schema", 11, 7)
    assert diag["pointer"] == "/spec/steps/0/duration"


def test_bad_input_null_step_one_message(cli: Cli, tmp_path: Path) -> None:
    text = VALID.replace("    - id: wait\n", "    -\n    - id: wait\n").replace(
        "duraton", "duration"
    )
    diag = check_bad(cli, write_bytes(tmp_path, "x.yaml", text.encode()))
    assert (diag["rule"], diag["line"], diag["pointer"]) == ("schema", 9, "/spec/steps/0")
    assert "must be a mapping, not null" in str(diag["message"])
