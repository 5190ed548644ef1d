"""Content (Mailing and Sms documents): suppression facts, what a message sends, previews.

:func:`outgoing` is what a sending step sends to one contact, rendered as
the daemon queues it; the daemon and ``flowctl simulate`` both use it, so a
message that cannot be sent fails in both alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowctl.engine import Effect, Result
from flowctl.engine.state import Renderer
from flowctl.templating import TemplateFailure, render

MESSAGE_PARTS = {"send_email": ("from", "subject", "text", "html"), "send_sms": ("text",)}
"""What each kind of message renders from its content document."""
SENDING_STEPS = frozenset({*MESSAGE_PARTS, "webhook"})
"""Steps that send something (to the outbox, in the daemon)."""
SENT_EVENTS = frozenset({"email_sent", "sms_sent"})
"""What the message steps emit (``data.step`` names the step)."""


class Unsendable(Exception):
    """A message or webhook that cannot be sent to this contact; the text says why."""


@dataclass(frozen=True)
class ContentIndex:
    """Mailings and SMS by name, from a list of content documents (plain dicts)."""

    mailings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_documents(cls, docs: Iterable[Mapping[str, Any]] | None) -> ContentIndex:
        """Index the ``Mailing`` and ``Sms`` documents among ``docs`` (others are ignored)."""
        mailings: dict[str, Mapping[str, Any]] = {}
        sms: dict[str, Mapping[str, Any]] = {}
        for doc in docs or ():
            if not isinstance(doc, Mapping):
                continue
            name = (doc.get("metadata") or {}).get("name")
            spec = doc.get("spec") or {}
            if doc.get("kind") == "Mailing" and name:
                mailings[str(name)] = spec
            elif doc.get("kind") == "Sms" and name:
                sms[str(name)] = spec
        return cls(mailings, sms)

    @property
    def once_per_contact(self) -> frozenset[str]:
        """Names of the Mailings marked ``once_per_contact: true``."""
        return frozenset(n for n, s in self.mailings.items() if s.get("once_per_contact") is True)

    def preview(self, kind: str, name: str, variables: Mapping[str, Any]) -> dict[str, Any] | None:
        """The rendered ``subject``/``text`` of a message, ``None`` when the content is unknown."""
        spec = (self.mailings if kind == "send_email" else self.sms).get(name)
        if spec is None:
            return None
        keys = ("subject", "text") if kind == "send_email" else ("text",)
        return {key: shown(spec.get(key), variables) for key in keys if key in spec}


def shown(template: Any, variables: Mapping[str, Any]) -> Any:
    """A template rendered, or its error shown in place of the text (a preview, a record)."""
    try:
        return render(template, variables)
    except TemplateFailure as exc:
        return f"<template error: {exc}>"


def outgoing(effect: Effect, content: ContentIndex, variables: Mapping[str, Any]) -> dict[str, Any]:
    """What a sending effect sends, rendered for one contact: an e-mail's ``from``,
    ``subject``, ``text`` and ``html``, an SMS's ``text``, a webhook's ``method``,
    ``headers`` and ``body``.

    Raises :class:`Unsendable` saying why it cannot be sent: its content is
    not there, or a template does not render for this contact.
    """
    params = effect.params
    if effect.type == "webhook":
        try:
            body = render_deep(params.get("body"), variables, render)
        except TemplateFailure as exc:
            raise Unsendable(f"the body cannot be rendered: {exc}") from None
        return {
            "method": params.get("method", "POST"),
            "headers": dict(params.get("headers") or {}),
            "body": body,
        }
    email = effect.type == "send_email"
    name = str(params.get("mailing" if email else "sms"))
    what = f"{'mailing' if email else 'sms'} {name}"
    spec = (content.mailings if email else content.sms).get(name)
    if spec is None:
        raise Unsendable(f"{what} is not in the store")
    try:
        return {k: render(spec[k], variables) for k in MESSAGE_PARTS[effect.type] if k in spec}
    except TemplateFailure as exc:
        raise Unsendable(f"{what} cannot be rendered for this contact: {exc}") from None


def render_deep(value: Any, variables: Mapping[str, Any], renderer: Renderer) -> Any:
    """``renderer`` applied to every string in ``value``, through mappings and lists."""
    if isinstance(value, str):
        return renderer(value, variables)
    if isinstance(value, Mapping):
        return {k: render_deep(v, variables, renderer) for k, v in value.items()}
    if isinstance(value, list):
        return [render_deep(v, variables, renderer) for v in value]
    return value


def unsent(result: Result, failed: Mapping[str, str]) -> Result:
    """``result`` with the sends that failed (reason by step id) as ``failed`` steps,
    the reason as their detail, and without the ``email_sent``/``sms_sent`` they emitted."""
    if not failed:
        return result
    history = tuple(
        h._replace(outcome="failed", detail=failed[h.step])
        if h.step is not None and h.step in failed and h.type in SENDING_STEPS
        else h
        for h in result.history
    )
    emitted = tuple(
        e for e in result.emitted if not (e.type in SENT_EVENTS and e.data.get("step") in failed)
    )
    return Result(result.state, result.contact, result.effects, emitted, history)
