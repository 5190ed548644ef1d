"""A population run through the daemon on fixed instants, whose report is known exactly.

:func:`run_scenario` applies :data:`AB_FLOW`, imports 20 contacts and runs
``flowctl daemon --once`` on three days (``FLOWCTL_NOW``):

- Monday 2 March 09:00 (Stockholm): c00…c11 submit the form; they get the
  welcome e-mail and one of two offers by the split (a stable hash of
  flow, step and contact id, so the test computes who gets which).
- Tuesday: c12…c19 submit the form; c00 opens the welcome e-mail (twice:
  one contact, one open); c04 opens its offer; c02 and c03 click theirs;
  c01 buys (success: status ``succeeded``).
- Wednesday: the first group's 2-day delay ends: c02 and c03 (clicked)
  take ``then``, the other nine ``else``; all eleven complete. The second
  group waits in the delay until Thursday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flowctl.engine import split_bucket
from tests.daemon.conftest import T0, Flowctl, days, flowctl, webhooks

__all__ = ["AB_FLOW", "Scenario", "flowctl", "run_scenario", "webhooks"]

AB_FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: ab-report, title: Offer A/B test}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: guide}]
  reentry: never
  history_retention: 1d
  steps:
    - {id: welcome, type: send_email, mailing: welcome}
    - id: subject
      type: split
      variants:
        - name: a
          weight: 50
          steps: [{id: offer-a, type: send_email, mailing: offer-a}]
        - name: b
          weight: 50
          steps: [{id: offer-b, type: send_email, mailing: offer-b}]
    - {id: wait-2d, type: delay, duration: 2d}
    - id: clicked
      type: decision
      if: {event: email_link_clicked}
      then: [{id: tag-engaged, type: add_tag, tag: engaged}]
      else: [{id: tag-cold, type: add_tag, tag: cold}]
  success:
    when: {event: sale_created}
"""
MAILINGS = "".join(
    f"""---
apiVersion: flowctl/v1
kind: Mailing
metadata: {{name: {name}}}
spec:
  from: "Acme <news@acme.example>"
  subject: "{name}"
  text: "Hello from {name}."
"""
    for name in ("welcome", "offer-a", "offer-b")
)
CONTACTS = [f"c{i:02d}" for i in range(20)]
FIRST, SECOND = CONTACTS[:12], CONTACTS[12:]
MONDAY, TUESDAY, WEDNESDAY = T0, T0 + days(1), T0 + days(2)


def email(contact: str) -> str:
    return f"{contact}@example.com"


def variant(contact: str) -> str:
    """The split variant the engine gives ``contact`` (50/50 by a stable hash)."""
    return "a" if split_bucket("ab-report", "subject", contact) < 50 else "b"


@dataclass(frozen=True)
class Scenario:
    """What the scenario did, for the expected figures."""

    flowctl: Flowctl
    now: datetime

    def variant_count(self, name: str, group: list[str] | None = None) -> int:
        return sum(1 for c in group or CONTACTS if variant(c) == name)


def run_scenario(flowctl: Flowctl) -> Scenario:
    """Run the three days described in the module docstring; "now" ends on Wednesday."""
    flowctl.apply(flowctl.write("ab.yaml", AB_FLOW + MAILINGS))
    flowctl.activate("ab-report")
    flowctl.import_contacts([{"id": c, "email": email(c)} for c in CONTACTS])
    for contact in FIRST:
        flowctl.send("form_submitted", email(contact), at=MONDAY, form="guide")
    flowctl.once(MONDAY)
    flowctl.at(TUESDAY)
    for contact in SECOND:
        flowctl.send("form_submitted", email(contact), at=TUESDAY, form="guide")
    early = TUESDAY - days(0.25)
    flowctl.send("email_opened", email("c00"), at=early, mailing="welcome")
    flowctl.send("email_opened", email("c00"), at=early + days(0.1), mailing="welcome")
    flowctl.send("email_opened", email("c04"), at=early, mailing=f"offer-{variant('c04')}")
    for contact in ("c02", "c03"):
        flowctl.send(
            "email_link_clicked", email(contact), at=early, mailing=f"offer-{variant(contact)}"
        )
    flowctl.send("sale_created", email("c01"), at=early, offer="guide")
    flowctl.once(TUESDAY)
    flowctl.once(WEDNESDAY)
    return Scenario(flowctl, WEDNESDAY)
