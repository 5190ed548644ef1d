"""io-error: a file that cannot be read as YAML text."""

from __future__ import annotations

from pathlib import Path

from flowctl.lint import validate_paths, validate_sources
from flowctl.load import read_source
from tests.lint.conftest import flow


def test_io_error_binary_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "logo.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (problem,) = validate_paths([path]).problems
    assert (problem.rule, problem.level) == ("io-error", "error")
    assert (problem.file, problem.line, problem.column, problem.pointer) == (str(path), 1, 1, "")
    assert "binary" in problem.message


def test_io_error_non_utf8_names_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"apiVersion: flowctl/v1\nkind: Flow\nmetadata: {name: caf\xe9}\n")
    (problem,) = validate_paths([path]).problems
    assert problem.rule == "io-error"
    assert problem.line == 3
    assert "not UTF-8" in problem.message
    assert "0xe9" in problem.message


def test_io_error_directory_read_as_file_fails(tmp_path: Path) -> None:
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    (problem,) = validate_sources([read_source(folder)]).problems
    assert problem.rule == "io-error"
    assert "is a directory" in problem.message


def test_io_error_readable_file_passes(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(flow("  steps: [{id: a, type: end}]\n"), encoding="utf-8")
    result = validate_paths([path])
    assert result.problems == []
    assert result.files == 1
