"""Diagnostics as data: what rules find and what reporters render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """What a rule reports about one document: a JSON pointer and a message.

    ``key=True`` points at the key of the node rather than its value (an
    unknown key).
    """

    pointer: str
    message: str
    key: bool = False


@dataclass(frozen=True, order=True)
class Problem:
    """One diagnostic: file, 1-based line and column, rule, level, message, JSON pointer."""

    file: str
    line: int
    column: int
    rule: str
    level: Level
    message: str
    pointer: str = ""


@dataclass
class Result:
    """The outcome of validating a set of files."""

    files: int
    problems: list[Problem]
    sources: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def error_count(self) -> int:
        return sum(1 for p in self.problems if p.level == "error")

    @property
    def warning_count(self) -> int:
        return sum(1 for p in self.problems if p.level == "warning")

    @property
    def valid(self) -> bool:
        return self.error_count == 0

    def failed(self, fail_on: Level = "error") -> bool:
        """Whether the problems reach the level that fails the run."""
        return self.error_count > 0 or (fail_on == "warning" and self.warning_count > 0)
