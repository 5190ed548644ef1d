"""The action steps of spec §5.1: effects as data, contact changes, emitted events.

Outcomes recorded in history:

- ``sent`` — a ``send_email``/``send_sms`` that goes out;
- ``suppressed`` — a message not sent, with ``detail`` ``unsubscribed``,
  ``no_email``, ``no_phone`` or ``once_per_contact``; the participant goes on;
- ``done`` — every other action (``detail`` ``unchanged`` when a tag,
  campaign, selection or project change found the contact already so; the
  effect is still produced, no event is emitted, as in the CRM).

A message outside the ``send_window`` or over the frequency cap is not an
outcome: the participant waits in the step (``hold`` ``send_window`` or
``frequency_cap``) and the step runs again, same visit, when due.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flowctl.engine.conditions import company_of
from flowctl.engine.operators import equal
from flowctl.engine.program import ActionStep
from flowctl.engine.run import Run
from flowctl.engine.state import ParticipantState
from flowctl.templating import TemplateFailure
from flowctl.timeutil import isoformat

SENT = "sent"
SUPPRESSED = "suppressed"
DONE = "done"

# action type → (contact list field, item key, event when added, whether it adds)
_MEMBERSHIP: dict[str, tuple[str, str, str, bool]] = {
    "add_tag": ("tags", "tag", "tag_added", True),
    "remove_tag": ("tags", "tag", "tag_removed", False),
    "subscribe_campaign": ("campaigns", "campaign", "campaign_subscribed", True),
    "unsubscribe_campaign": ("campaigns", "campaign", "campaign_unsubscribed", False),
    "add_to_selection": ("selections", "selection", "selection_added", True),
    "add_to_project": ("projects", "project", "project_added", True),
}
# action type → event it emits, for actions that only record something
_RECORDS: dict[str, str] = {
    "create_activity": "activity_created",
    "create_sale": "sale_created",
    "create_appointment": "appointment_created",
    "create_ticket": "ticket_created",
    "enroll_course": "course_enrolled",
    "revoke_course": "course_revoked",
}


def run_action(run: Run, step: ActionStep) -> None:
    """Execute an action step; sets ``run.position`` to the next step unless it waits."""
    handler = _HANDLERS.get(step.type, _plain)
    outcome = handler(run, step)
    if outcome is None:  # held back: waiting in this step
        return
    name, detail = outcome
    run.record(step.id, step.type, name, detail)
    run.position = step.next


Outcome = tuple[str, str | None] | None


def _send(run: Run, step: ActionStep) -> Outcome:
    is_email = step.type == "send_email"
    content = str(step.params.get("mailing" if is_email else "sms"))
    reason = _suppression(run, content, is_email)
    if reason is not None:
        return SUPPRESSED, reason
    window = run.program.send_window
    if window is not None:
        opens = window.opens_at(run.now, run.facts.zone)
        if opens > run.now:
            run.wait(opens, "send_window")
            return None
    limits = run.ctx.limits
    if limits is not None:
        floor = run.now - limits.per
        recent = sorted(t for t in run.sent_times() if floor < t <= run.now)
        if len(recent) >= limits.messages:
            run.wait(recent[len(recent) - limits.messages] + limits.per, "frequency_cap")
            return None
    key = "mailing" if is_email else "sms"
    run.effect(step.id, step.type, {key: content})
    run.emit("email_sent" if is_email else "sms_sent", step.id, {key: content})
    run.sent_times().append(run.now)
    if is_email:
        run.mailings_sent().add(content)
    return SENT, None


def _suppression(run: Run, content: str, is_email: bool) -> str | None:
    contact = run.contact
    if is_email:
        if equal(contact.get("unsubscribed"), True):
            return "unsubscribed"
        if not contact.get("email"):
            return "no_email"
        if content in run.ctx.once_per_contact and content in run.mailings_sent():
            return "once_per_contact"
        return None
    if not contact.get("phone"):
        return "no_phone"
    return None


def _membership(run: Run, step: ActionStep) -> Outcome:
    attr, key, event, adds = _MEMBERSHIP[step.type]
    name = str(step.params.get(key))
    run.effect(step.id, step.type, {key: name})
    held = run.contact.get(attr)
    current = list(held) if isinstance(held, list | tuple | set | frozenset) else []
    if (name in current) == adds:
        return DONE, "unchanged"
    updated = [*current, name] if adds else [item for item in current if item != name]
    run.writable_contact()[attr] = updated
    run.emit(event, step.id, {key: name})
    return DONE, None


def _update_contact(run: Run, step: ActionStep) -> Outcome:
    raw_set = step.params.get("set") or {}
    unset = [str(f).removeprefix("contact.") for f in step.params.get("unset") or ()]
    values: dict[str, Any] = {}
    failed: list[str] = []  # a value that cannot render leaves its field as it was
    for field, value in raw_set.items():
        name = str(field).removeprefix("contact.")
        try:
            values[name] = _render(run, value)
        except TemplateFailure as exc:
            failed.append(f"{name}: {exc}")
    run.effect(step.id, step.type, {"set": values, "unset": unset})
    contact = run.writable_contact()
    contact.update(values)
    for field in unset:
        contact.pop(field, None)
    run.emit("contact_updated", step.id, {"set": values, "unset": unset})
    return DONE, "template error in " + "; ".join(failed) if failed else None


def template_variables(
    state: ParticipantState, contact: Mapping[str, Any], step_count: int
) -> dict[str, Any]:
    """What templates see (see :mod:`flowctl.templating`)."""
    return {
        "contact": contact,
        "company": company_of(contact),
        "trigger": dict(state.trigger.data),
        "participant": {
            "entered_at": isoformat(state.entered_at),
            "step_count": step_count,
            "status": state.status,
            "flow": state.flow,
            "version": state.version,
            "contact_id": state.contact,
        },
        "flow": state.flow,
    }


def _render(run: Run, value: Any) -> Any:
    if run.ctx.render is None or not isinstance(value, str) or "{" not in value:
        return value
    return run.ctx.render(value, template_variables(run.state, run.contact, run.step_count))


def _record(run: Run, step: ActionStep) -> Outcome:
    params = dict(step.params)
    if step.span is not None:
        moment: datetime = run.now + step.span
        params["due_at" if step.type == "create_activity" else "start_at"] = isoformat(moment)
    run.effect(step.id, step.type, params)
    run.emit(_RECORDS[step.type], step.id, params)
    return DONE, None


def _webhook(run: Run, step: ActionStep) -> Outcome:
    params = dict(step.params)
    params.setdefault("method", "POST")
    run.effect(step.id, step.type, params)
    return DONE, None


def _plain(run: Run, step: ActionStep) -> Outcome:
    """``notify``, ``start_flow`` (an entry request for the daemon)."""
    run.effect(step.id, step.type, dict(step.params))
    return DONE, None


_HANDLERS: Mapping[str, Callable[[Run, ActionStep], Outcome]] = {
    "send_email": _send,
    "send_sms": _send,
    **dict.fromkeys(_MEMBERSHIP, _membership),
    "update_contact": _update_contact,
    **dict.fromkeys(_RECORDS, _record),
    "webhook": _webhook,
}
