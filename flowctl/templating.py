"""Templates in content and steps: sandboxed Jinja2 over a fixed set of names.

Messages see ``contact`` (any contact field, custom ones included),
``company``, ``trigger`` (the data of the event that entered the
participant), ``participant`` and ``flow``. Nothing else: no attribute access
beyond the data given, no file or network access.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any

ROOTS = ("contact", "company", "trigger", "participant", "flow", "unsubscribe_url")
PARTICIPANT_FIELDS = ("entered_at", "step_count", "status", "flow", "version", "contact_id")
MARKERS = ("{{", "{%", "{#")


def is_template(text: Any) -> bool:
    """Whether a string holds template syntax at all (plain text skips Jinja2)."""
    return isinstance(text, str) and any(m in text for m in MARKERS)


@cache
def environment() -> Any:
    """The one sandboxed Jinja2 environment (imported lazily: Jinja2 is slow to load)."""
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


class TemplateFailure(Exception):
    """A template that cannot render for this participant (a missing value, a sandbox refusal)."""


def render(template: Any, variables: Mapping[str, Any]) -> Any:
    """Render one template string in the sandbox (other values as they are).

    Raises :class:`TemplateFailure` saying why it cannot.
    """
    if not is_template(template):
        return template
    try:
        return compiled(template).render(**variables)
    except Exception as exc:  # Jinja2's syntax, undefined and security errors alike
        raise TemplateFailure(str(exc)) from exc


@lru_cache(maxsize=1024)
def compiled(template: str) -> Any:
    """A template compiled once and kept: the daemon renders the same few thousands of times."""
    compiled = environment().from_string(template)
    # Its globals are a ChainMap over the environment's, which every render copies
    # item by item; they never change here, so one flat dict serves as well.
    compiled.globals = dict(compiled.globals)
    return compiled
