"""Which files a list of paths names: files as given, directories searched for YAML."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from flowctl.errors import UsageError

YAML_SUFFIXES = (".yaml", ".yml")
_SKIPPED_DIRS = {"node_modules", "__pycache__"}


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus ``*.yaml``/``*.yml`` under directories (recursive).

    Hidden directories (``.git``, ``.venv``) are skipped. A path that does not
    exist is a :class:`UsageError`. The order is stable: as given, and sorted
    within a directory.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted(_walk(path))
        elif path.exists() or path.is_symlink():
            candidates = [path]
        else:
            raise UsageError(
                f"{raw}: no such file or directory", hint="check the path, or quote a glob"
            )
        for candidate in candidates:
            if candidate not in seen:
                seen.add(candidate)
                found.append(candidate)
    return found


def _walk(root: Path) -> Iterable[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        for name in files:
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                yield Path(folder) / name
