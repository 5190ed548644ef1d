"""Content (Mailing and Sms documents) for a simulation: suppression facts and previews."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowctl.templating import TemplateFailure, render


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
