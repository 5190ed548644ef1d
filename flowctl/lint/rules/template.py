"""template: a Jinja2 template that does not parse, or names a variable that cannot exist.

Templates (Mailing subject, text and html; Sms text; texts in steps such as
``update_contact.set`` or ``notify.message``) may use ``contact``,
``company``, ``trigger``, ``participant`` and ``flow`` (see
:mod:`flowctl.templating`). Any contact field is allowed, custom ones
included, since contacts carry custom fields.

Fails::

    subject: "Welcome, {{ contcat.first_name }"

Passes::

    subject: "Welcome, {{ contact.first_name | default('friend') }}"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from flowctl import templating
from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.lint.walk import flow_steps
from flowctl.load import Document

ID = "template"
LEVEL = "error"
KINDS = ("Flow", "Mailing", "Sms")

_CONTENT_KEYS = ("subject", "text", "html")
_STEP_KEYS = ("title", "message", "url", "body", "headers", "set")


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    for pointer, text in _templates(doc):
        problem = problem_in(text)
        if problem:
            yield Finding(pointer, problem)


def problem_in(text: str) -> str | None:
    """What is wrong with one template, or None."""
    from jinja2 import TemplateError, meta, nodes

    env = templating.environment()
    try:
        tree = env.parse(text)
        env.compile(tree)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (template line {line})" if line and text.count("\n") else ""
        return f"template does not parse: {exc.message}{where}"
    for name in sorted(meta.find_undeclared_variables(tree)):
        if name not in templating.ROOTS:
            close = difflib.get_close_matches(name, templating.ROOTS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return (
                f"template names '{name}', which is not available{hint}; templates can use "
                + ", ".join(templating.ROOTS)
            )
    # Jinja checks a filter or test only where it is sure to run: one inside
    # {% if %} would fail only for the contacts that reach it.
    for kind, known, found in (
        ("filter", env.filters, tree.find_all(nodes.Filter)),
        ("test", env.tests, tree.find_all(nodes.Test)),
    ):
        for node in found:
            if node.name not in known:
                close = difflib.get_close_matches(node.name, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                return f"template does not parse: there is no {kind} named '{node.name}'{hint}"
    for node in tree.find_all(nodes.Getattr):
        target = node.node
        if (
            isinstance(target, nodes.Name)
            and target.name == "participant"
            and node.attr not in templating.PARTICIPANT_FIELDS
        ):
            return (
                f"template names participant.{node.attr}, which does not exist; "
                "participant has " + ", ".join(templating.PARTICIPANT_FIELDS)
            )
    return None


def _templates(doc: Document) -> Iterator[tuple[str, str]]:
    if doc.kind in ("Mailing", "Sms"):
        for key in _CONTENT_KEYS:
            yield from _strings(doc.spec.get(key), f"/spec/{key}")
        return
    for step, pointer in flow_steps(doc.spec):
        for key in _STEP_KEYS:
            yield from _strings(step.get(key), f"{pointer}/{key}")


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if templating.is_template(value):
            yield pointer, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")
