"""``apply``, ``diff`` and ``rollback``: flows and content into the store, versioned.

Everything given is validated first (with the store's documents known, so a
flow may name content applied earlier); one error and nothing is written.
A document whose normalized form (its parsed data, keys sorted) hashes the
same as the stored version is ``unchanged``, even if it was reformatted or
its comments changed. A changed document becomes a new version that keeps
its own source text.

A new version of a flow with live participants migrates them at once, in
the same transaction (``on_update: migrate``, spec §9): each goes on at the
step with the same id, or ends ``exited`` with reason ``step_removed``. With
``on_update: keep`` they finish on the version they entered.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from flowctl.engine import ParticipantState, compile_flow, migrate, would_migrate
from flowctl.errors import NotFound
from flowctl.lint import InvalidDocuments, Result, load_valid
from flowctl.load.documents import Document, split_documents
from flowctl.operate import rights
from flowctl.operate.lookup import unknown_flow
from flowctl.store import FLOW, STORED_KINDS, Store, StoredDocument

CREATED = "created"
CONFIGURED = "configured"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    """What applying one document does (or did): ``result`` and the version it is at.

    For a running flow, ``migrate`` participants go on in the new version and
    ``step_removed`` ones exit; ``keep`` ones stay on their version.
    """

    kind: str
    name: str
    result: str
    version: int
    path: str | None = None
    migrate: int = 0
    step_removed: int = 0
    keep: int = 0

    @property
    def ref(self) -> str:
        """``flow/NAME``, ``mailing/NAME``, ``sms/NAME``."""
        return f"{self.kind.lower()}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        """The spec's keys ``kind``, ``name``, ``result``, ``version`` (+ participants)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "result": self.result,
            "version": self.version,
        }
        if self.migrate or self.step_removed or self.keep:
            out["participants"] = {
                "migrate": self.migrate,
                "step_removed": self.step_removed,
                "keep": self.keep,
            }
        return out


@dataclass(frozen=True)
class Applied:
    """The outcome of :func:`apply`: one change per document, lint warnings, and the
    FlowTest documents given, which are not stored."""

    changes: list[Change]
    checked: Result
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Planned:
    change: Change
    doc: StoredDocument | None = None
    states: list[ParticipantState] = field(default_factory=list)


def apply(
    store: Store,
    paths: Sequence[str | Path],
    *,
    now: datetime,
    user: str | None = None,
    dry_run: bool = False,
) -> Applied:
    """Validate the files, then store every changed flow and content document.

    Raises :class:`~flowctl.lint.InvalidDocuments` (nothing written) when a
    file has errors, :class:`~flowctl.errors.Refused` when the user lacks a
    right. With ``dry_run`` the same changes are computed and nothing is written.
    """
    docs, checked = load_valid(paths, known=_known(store))
    stored = [d for d in docs if d.kind in STORED_KINDS]
    who = rights.authorize(store, rights.VIEW, user)  # a user of the store, changes or not
    plans = [_plan_document(store, d, now, who) for d in stored]
    _authorize(store, {p.change.kind for p in plans if p.doc is not None}, who)
    if not dry_run:
        _commit(store, plans, "apply", now, who)
    skipped = [f"{(d.kind or '?').lower()}/{d.name}" for d in docs if d not in stored]
    return Applied([p.change for p in plans], checked, skipped)


def rollback(store: Store, name: str, to: int, *, now: datetime, user: str | None = None) -> Change:
    """Make version ``to`` of a flow current again, as a new version."""
    who = rights.authorize(store, rights.MANAGE_FLOWS, user)
    versions = store.versions(FLOW, name)
    if not versions:
        raise unknown_flow(store, name)
    old = next((v for v in versions if v.version == to), None)
    if old is None:
        raise NotFound(
            f"flow/{name} has no version {to}",
            hint=f"its versions are 1 to {versions[-1].version}",
        )
    plan = _plan(store, FLOW, name, dict(old.document), old.source, old.path, now, who)
    _commit(store, [plan], f"rollback --to {to}", now, who)
    return plan.change


@dataclass(frozen=True)
class Diff:
    """How a document in the files differs from the stored one (``text``: unified diff)."""

    kind: str
    name: str
    status: str  # "new", "changed" or "same"
    text: str


def diff(store: Store, paths: Sequence[str | Path]) -> list[Diff]:
    """Unified diffs of the stored current versions against the documents in ``paths``.

    Documents whose normalized form matches the stored one are ``same``
    (reformatting is no change). Raises ``InvalidDocuments`` for broken files.
    """
    rights.authorize(store, rights.VIEW)
    docs, _ = load_valid(paths, known=_known(store))
    out: list[Diff] = []
    for doc in docs:
        if doc.kind not in STORED_KINDS or not doc.kind or not doc.name:
            continue
        current = store.document(doc.kind, doc.name)
        source = _source_of(doc)
        ref = f"{doc.kind.lower()}/{doc.name}"
        if current is not None and current.hash == digest(doc.data):
            out.append(Diff(doc.kind, doc.name, "same", ""))
            continue
        before = current.source if current else ""
        label = f"{ref} (version {current.version}, stored)" if current else "/dev/null"
        lines = difflib.unified_diff(
            _lines(before), _lines(source), fromfile=label, tofile=doc.source.path
        )
        out.append(Diff(doc.kind, doc.name, "changed" if current else "new", "".join(lines)))
    return out


def digest(data: Any) -> str:
    """The hash of a document's normalized form."""
    return hashlib.sha256(normalized(data).encode()).hexdigest()


def normalized(data: Any) -> str:
    """A document as canonical JSON: keys sorted, no whitespace."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _known(store: Store) -> list[tuple[str, str]]:
    return [(d.kind, d.name) for d in store.documents()]


def _authorize(store: Store, kinds: set[str], who: str) -> None:
    """The rights to change documents of these kinds (unchanged ones need none)."""
    if kinds - {FLOW}:
        rights.authorize(store, rights.APPLY_CONTENT, who)
    if FLOW in kinds:
        rights.authorize(store, rights.MANAGE_FLOWS, who)


def _plan_document(store: Store, doc: Document, now: datetime, who: str) -> _Planned:
    assert doc.kind and doc.name  # validated documents have both
    return _plan(store, doc.kind, doc.name, doc.data, _source_of(doc), doc.source.path, now, who)


def _plan(
    store: Store,
    kind: str,
    name: str,
    data: Mapping[str, Any],
    source: str,
    path: str | None,
    now: datetime,
    who: str,
) -> _Planned:
    current = store.document(kind, name)
    hashed = digest(data)
    if current is not None and current.hash == hashed:
        return _Planned(Change(kind, name, UNCHANGED, current.version, path))
    version = current.version + 1 if current else 1
    doc = StoredDocument(kind, name, version, hashed, source, data, now, who, path)
    change = Change(kind, name, CONFIGURED if current else CREATED, version, path)
    if kind != FLOW or current is None:
        return _Planned(change, doc)
    live = store.live_participants(name)
    if not live:
        return _Planned(change, doc)
    program = compile_flow(data, version)
    if program.on_update == "keep":
        return _Planned(replace(change, keep=len(live)), doc)
    counts = would_migrate(live, program)
    moved = [migrate(s, program, now) for s in live]
    change = replace(change, migrate=counts["migrate"], step_removed=counts["step_removed"])
    return _Planned(change, doc, moved)


def _commit(store: Store, plans: list[_Planned], command: str, now: datetime, who: str) -> None:
    with store.transaction():
        for plan in plans:
            if plan.doc is None:
                continue
            store.add_version(plan.doc)
            if plan.states:
                store.update_participants(plan.states)
            change = plan.change
            detail = f"{change.result} version {change.version}"
            if change.migrate or change.step_removed:
                detail += f"; {change.migrate} migrated, {change.step_removed} exited"
            rights.audit(store, who, command, change.ref, now, detail)


def _source_of(doc: Document) -> str:
    texts = split_documents(doc.source.text)
    return texts[doc.index] if doc.index < len(texts) else doc.source.text


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


__all__ = ["Applied", "Change", "Diff", "InvalidDocuments", "apply", "diff", "rollback"]
