"""Generate realistic, valid flow files (and the content they send) for benchmarks.

Deterministic: the same ``count`` and ``seed`` give the same bytes. Each
flow has about 20 steps (branches included): decisions nested two deep,
delays of every form, ``wait_until`` with ``on_timeout``, A/B splits whose
weights sum to 100, e-mails and SMS, CRM actions, webhooks, an occasional
``goto`` back to a delay; varied triggers; filters with all/any/not and
every field operator. Every Mailing and Sms a flow names is written too, one
document per file (``check-jsonschema`` reads one document per file), so
``flowctl validate`` on the folder reports nothing at all.

Run ``python -m bench.gen_flows OUT_DIR [COUNT]`` to look at the output.
"""

from __future__ import annotations

import random
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.vocabulary import (
    ACTION_WEIGHTS,
    CAMPAIGNS,
    COUNTRIES,
    COURSES,
    DURATIONS,
    FIELD_TESTS,
    FORMS,
    NOTES,
    OFFERS,
    TAGS,
    TIMEZONES,
    TOPICS,
    WEEK,
    WEIGHTS,
)
from bench.yamlout import dump

API = "flowctl/v1"
MODELINE = "yaml-language-server: $schema=../../../../schemas/flow.schema.json"


@dataclass(frozen=True)
class Generated:
    """Where the files went: flows and content, each list sorted."""

    flows: list[Path]
    content: list[Path]

    @property
    def all(self) -> list[Path]:
        return [*self.flows, *self.content]


def generate(out: Path, count: int, *, seed: int = 2026) -> Generated:
    """Write ``count`` flows to ``out/flows`` and their content to ``out/content`` (wiped first)."""
    rng = random.Random(seed)
    names = [f"{TOPICS[i % len(TOPICS)]}-{i:04d}" for i in range(count)]
    mailings = [f"mail-{TOPICS[i % len(TOPICS)]}-{i:03d}" for i in range(max(8, count // 4))]
    sms = [f"sms-{TOPICS[i % len(TOPICS)]}-{i:03d}" for i in range(max(4, count // 20))]
    if out.exists():
        shutil.rmtree(out)
    (out / "flows").mkdir(parents=True)
    (out / "content").mkdir()
    flows = []
    for index, name in enumerate(names):
        doc = _FlowBuilder(rng, name, names, mailings, sms).build(index)
        path = out / "flows" / f"{name}.yaml"
        path.write_text(dump(doc, header=MODELINE), encoding="utf-8")
        flows.append(path)
    content = []
    for name in mailings:
        path = out / "content" / f"{name}.yaml"
        path.write_text(dump(_mailing(rng, name), header=MODELINE), encoding="utf-8")
        content.append(path)
    for name in sms:
        path = out / "content" / f"{name}.yaml"
        path.write_text(dump(_sms(rng, name), header=MODELINE), encoding="utf-8")
        content.append(path)
    return Generated(flows, content)


class _FlowBuilder:
    """One flow's document; ``count`` tracks steps so the flow lands near 20."""

    def __init__(
        self,
        rng: random.Random,
        name: str,
        flows: list[str],
        mailings: list[str],
        sms: list[str],
    ) -> None:
        self.r = rng
        self.name = name
        self.others = [f for f in flows if f != name] or [name]
        self.mailings = rng.sample(mailings, min(6, len(mailings)))
        self.sms = rng.sample(sms, min(2, len(sms)))
        self.ids: set[str] = set()
        self.count = 0
        self.last_wait: str | None = None

    def build(self, index: int) -> dict[str, Any]:
        r = self.r
        topic = self.name.rsplit("-", 1)[0]
        target = r.randint(17, 23)
        steps: list[dict[str, Any]] = []
        while self.count < target:
            steps.append(self.step(0, top=True))
        spec: dict[str, Any] = {"timezone": r.choice(TIMEZONES)}
        if r.random() < 0.3:
            spec["contact_timezone"] = True
        spec["triggers"] = [self.trigger() for _ in range(r.choice([1, 1, 2, 3]))]
        spec["filter"] = self.condition(0)
        if r.random() < 0.4:
            spec.update(reentry="after_exit", reentry_after=r.choice(["7d", "30d", "90d"]))
        else:
            spec["reentry"] = "never"
        if r.random() < 0.6:
            spec["send_window"] = self.send_window()
        spec["steps"] = steps
        spec["success"] = self.success()
        spec["exit_when"] = r.choice(
            [{"field": "contact.unsubscribed", "eq": True}, {"event": "sale_canceled"}]
        )
        spec["history_retention"] = r.choice(["30d", "90d", "180d"])
        spec["on_update"] = r.choice(["migrate", "migrate", "keep"])
        return {
            "apiVersion": API,
            "kind": "Flow",
            "metadata": {
                "name": self.name,
                "title": f"{topic.capitalize()} flow number {index}",
                "description": f"Generated {topic} flow for benchmarks; realistic, valid.",
                "folder": f"marketing/{topic}/{r.choice(['emea', 'nordics', 'global'])}",
                "labels": {"team": r.choice(["growth", "sales", "billing"]), "source": "bench"},
                "owner": r.choice(["lena.karlsson", "ola.nordmann", "growth-team"]),
            },
            "spec": spec,
        }

    def _id(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.ids:
            n += 1
            candidate = f"{base}-{n}"
        self.ids.add(candidate)
        self.count += 1
        return candidate

    def step(self, depth: int, *, top: bool = False) -> dict[str, Any]:
        r = self.r
        roll = r.random()
        if depth < 2 and roll < 0.16:
            return self.decision(depth)
        if depth < 2 and roll < 0.24:
            return self.wait_until(depth)
        if depth < 1 and roll < 0.29:
            return self.split(depth)
        if roll < 0.42:
            return self.delay(top=top)
        return self.action()

    def steps(self, depth: int, low: int, high: int) -> list[dict[str, Any]]:
        return [self.step(depth) for _ in range(self.r.randint(low, high))]

    def action(self) -> dict[str, Any]:
        r = self.r
        kind = r.choices(list(ACTION_WEIGHTS), weights=list(ACTION_WEIGHTS.values()))[0]
        if kind == "send_email":
            mailing = r.choice(self.mailings)
            return {"id": self._id(f"send-{mailing}"), "type": kind, "mailing": mailing}
        if kind == "send_sms":
            sms = r.choice(self.sms)
            return {"id": self._id(f"text-{sms}"), "type": kind, "sms": sms}
        if kind in ("tag", "campaign"):
            verb = r.choice(["add", "remove"] if kind == "tag" else ["subscribe", "unsubscribe"])
            value = r.choice(TAGS if kind == "tag" else CAMPAIGNS)
            step_type = f"{verb}_{kind}"
            return {"id": self._id(f"{verb}-{value}"), "type": step_type, kind: value}
        if kind in ("selection", "project"):
            value = f"{r.choice(TOPICS)}-{kind}s"
            return {"id": self._id(f"to-{value}"), "type": f"add_to_{kind}", kind: value}
        if kind == "course":
            verb = r.choice(["enroll", "enroll", "revoke"])
            course = r.choice(COURSES)
            return {"id": self._id(f"{verb}-{course}"), "type": f"{verb}_course", "course": course}
        if kind == "start_flow":
            return {"id": self._id("hand-over"), "type": kind, "flow": r.choice(self.others)}
        return _CRM[kind](self)

    def update_contact(self) -> dict[str, Any]:
        step: dict[str, Any] = {"id": self._id("update-contact"), "type": "update_contact"}
        step["set"] = {
            "lifecycle_stage": self.r.choice(["lead", "mql", "customer"]),
            "last_flow": "{{ flow.name }}",
            "entered_via": f"{{{{ trigger.form | default('{self.r.choice(FORMS)}') }}}}",
        }
        if self.r.random() < 0.5:
            step["unset"] = ["trial_ends_at"]
        return step

    def create_activity(self) -> dict[str, Any]:
        return {
            "id": self._id("follow-up-call"),
            "title": "Sales follow-up",
            "type": "create_activity",
            "assignee": self.r.choice(["sales-team", "account-manager"]),
            "due": self.r.choice(["1d", "2d", "1w"]),
        }

    def notify(self) -> dict[str, Any]:
        return {
            "id": self._id("alert-sales"),
            "type": "notify",
            "to": "sales@acme.example",
            "message": f"{{{{ contact.first_name }}}} {{{{ contact.last_name }}}} "
            f"<{{{{ contact.email }}}}> reached {self.count} steps of {self.name} "
            f"({{{{ participant.step_count }}}} so far); {self.r.choice(NOTES)}",
        }

    def create_sale(self) -> dict[str, Any]:
        return {
            "id": self._id("open-sale"),
            "type": "create_sale",
            "title": f"{self.r.choice(OFFERS)} for "
            "{{ contact.company | default(contact.email) }}",
            "amount": float(self.r.choice([499, 1990, 4990])),
            "stage": "lead",
        }

    def create_appointment(self) -> dict[str, Any]:
        step_id = self._id("book-demo")
        return {"id": step_id, "type": "create_appointment", "title": "Demo", "in": "3d"}

    def create_ticket(self) -> dict[str, Any]:
        return {
            "id": self._id("open-ticket"),
            "type": "create_ticket",
            "title": f"Check account of {{{{ contact.email }}}} ({self.name})",
            "category": self.r.choice(["billing", "support"]),
        }

    def webhook(self) -> dict[str, Any]:
        return {
            "id": self._id("sync-crm"),
            "type": "webhook",
            "url": f"https://crm.acme.example/api/hooks/{self.r.choice(TOPICS)}",
            "method": "POST",
            "headers": {"Content-Type": "application/json", "X-Flowctl-Flow": self.name},
            "body": '{"email": "{{ contact.email }}", "flow": "{{ flow.name }}", '
            f'"step": "{self.count}", "score": {{{{ contact.score | default(0) }}}}}}',
        }

    def delay(self, *, top: bool = False) -> dict[str, Any]:
        r = self.r
        form = r.choices(["duration", "until", "until_date"], weights=[6, 3, 1])[0]
        step: dict[str, Any] = {"id": self._id(f"wait-{form.replace('_', '-')}"), "type": "delay"}
        if form == "duration":
            step["duration"] = r.choice(DURATIONS)
        elif form == "until":
            step["until"] = r.choice(["08:00", "09:00", "10:30"])
            if r.random() < 0.6:
                step["days"] = WEEK[:5]
        else:
            step.update(until_date="contact.renewal_date", offset=r.choice(["-7d", "-1d", "2d"]))
        if top:
            self.last_wait = step["id"]
        return step

    def wait_until(self, depth: int) -> dict[str, Any]:
        step_id = self._id("wait-for-engagement")
        return {
            "id": step_id,
            "title": "Wait for the contact to engage",
            "type": "wait_until",
            "condition": self.event_condition(),
            "timeout": self.r.choice(["2d", "3d", "1w"]),
            "on_timeout": self.steps(depth + 1, 1, 3),
        }

    def decision(self, depth: int) -> dict[str, Any]:
        r = self.r
        step: dict[str, Any] = {"id": self._id("check"), "type": "decision"}
        step["if"] = self.condition(1)
        step["then"] = self.steps(depth + 1, 1, 4)
        if r.random() < 0.6:
            step["else"] = self.steps(depth + 1, 1, 3)
            ending = r.random()
            if ending < 0.1 and self.last_wait:
                goto = {"id": self._id("try-again"), "type": "goto", "step": self.last_wait}
                step["else"].append(goto)
            elif ending < 0.2:
                step["else"].append({"id": self._id("stop-here"), "type": "end"})
        return step

    def split(self, depth: int) -> dict[str, Any]:
        step_id = self._id("ab-test")
        weights = self.r.choice(WEIGHTS)
        variants = [
            {"name": "abc"[i], "weight": w, "steps": self.steps(depth + 1, 1, 2)}
            for i, w in enumerate(weights)
        ]
        return {"id": step_id, "type": "split", "variants": variants}

    def trigger(self) -> dict[str, Any]:
        r = self.r
        options: list[dict[str, Any]] = [
            {"type": "form_submitted", "form": r.choice(FORMS)},
            {"type": "funnel_form_subscribed", "form": r.choice(FORMS)},
            {"type": "tag_added", "tag": r.choice(TAGS)},
            {"type": "contact_created"},
            {"type": "contact_updated", "field": "lifecycle_stage"},
            {"type": "webinar_registered", "webinar": "spring-webinar"},
            {"type": "module_completed", "course": r.choice(COURSES), "module": "module-2"},
            {"type": "sale_created", "offer": r.choice(OFFERS)},
            {"type": "subscription_payment_failed"},
            {"type": "email_link_clicked", "url": "https://acme.example/pricing*"},
            {"type": "page_visited", "url": "https://acme.example/pricing"},
            {"type": "event", "name": "trial_started"},
            {"type": "manual"},
        ]
        trigger = r.choice(options)
        if r.random() < 0.25:
            trigger["filter"] = self.field_condition()
        return trigger

    def condition(self, depth: int) -> dict[str, Any]:
        r = self.r
        if depth < 2 and r.random() < 0.5:
            combinator = r.choice(["all", "any", "not"])
            if combinator == "not":
                return {"not": self.condition(depth + 1)}
            return {combinator: [self.condition(depth + 1) for _ in range(r.randint(2, 3))]}
        leaf = r.choices(["tag", "campaign", "field", "event"], weights=[3, 1, 5, 2])[0]
        if leaf == "tag":
            return {"tag": r.choice(TAGS)}
        if leaf == "campaign":
            return {"campaign": r.choice(CAMPAIGNS)}
        if leaf == "field":
            return self.field_condition()
        return self.event_condition()

    def field_condition(self) -> dict[str, Any]:
        field, op, value = self.r.choice(FIELD_TESTS)
        return {"field": field, op: value(self.r)}

    def event_condition(self) -> dict[str, Any]:
        r = self.r
        options: list[dict[str, Any]] = [
            {"event": "email_opened", "mailing": r.choice(self.mailings)},
            {"event": "email_link_clicked", "mailing": r.choice(self.mailings), "within": "7d"},
            {"event": "sale_created", "offer": r.choice(OFFERS)},
            {"event": "form_submitted", "form": r.choice(FORMS), "within": "14d"},
            {"event": "event", "name": "payment_method_updated", "within": "1d"},
        ]
        return r.choice(options)

    def send_window(self) -> dict[str, Any]:
        r = self.r
        window: dict[str, Any] = {}
        if r.random() < 0.7:
            window["days"] = WEEK[: r.choice([5, 6])]
        window["from"] = r.choice(["08:00", "09:00"])
        window["to"] = r.choice(["17:00", "18:00", "20:00"])
        return window

    def success(self) -> dict[str, Any]:
        r = self.r
        success: dict[str, Any] = {
            "when": r.choice(
                [
                    {"event": "sale_created", "offer": r.choice(OFFERS)},
                    {"any": [{"event": "sale_created"}, {"event": "appointment_created"}]},
                    {"event": "email_link_clicked", "within": "30d"},
                ]
            ),
            "on_success": r.choice(["stop", "continue"]),
        }
        if r.random() < 0.3:
            success["transfer_to"] = r.choice(self.others)
        return success


_CRM: dict[str, Callable[[_FlowBuilder], dict[str, Any]]] = {
    "update_contact": _FlowBuilder.update_contact,
    "create_activity": _FlowBuilder.create_activity,
    "notify": _FlowBuilder.notify,
    "create_sale": _FlowBuilder.create_sale,
    "create_appointment": _FlowBuilder.create_appointment,
    "create_ticket": _FlowBuilder.create_ticket,
    "webhook": _FlowBuilder.webhook,
}


def _mailing(rng: random.Random, name: str) -> dict[str, Any]:
    topic = name.split("-")[1]
    offer = rng.choice(OFFERS)
    spec: dict[str, Any] = {
        "from": "Acme <hello@acme.example>",
        "subject": f"{{{{ contact.first_name | default('Hi') }}}}, {name}: news about {topic}",
        "text": (
            "Hi {{ contact.first_name | default('there') }},\n"
            "\n"
            f"Here is what is new in {topic} this week ({name}).\n"
            f"{{% if contact.country == '{rng.choice(COUNTRIES)}' %}}A note for you.{{% endif %}}\n"
            f"{{% for tag in contact.tags | default([]) %}}{{{{ tag }}}} {{% endfor %}}\n"
            f"Try {offer}: https://acme.example/{offer}?c={{{{ contact.id }}}}\n"
            "\n"
            "Unsubscribe: {{ unsubscribe_url }}\n"
        ),
        "tracking": True,
    }
    if rng.random() < 0.5:
        spec["html"] = f"<p>Hi {{{{ contact.first_name | default('there') }}}},</p><p>{topic}</p>"
    if rng.random() < 0.2:
        spec["once_per_contact"] = True
    return {
        "apiVersion": API,
        "kind": "Mailing",
        "metadata": {
            "name": name,
            "title": f"{topic.capitalize()} e-mail",
            "folder": f"content/{topic}",
        },
        "spec": spec,
    }


def _sms(rng: random.Random, name: str) -> dict[str, Any]:
    topic = name.split("-")[1]
    return {
        "apiVersion": API,
        "kind": "Sms",
        "metadata": {"name": name, "folder": f"content/{topic}"},
        "spec": {"text": f"Acme: {topic} news for {{{{ contact.first_name }}}}. Reply STOP."},
    }


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m bench.gen_flows OUT_DIR [COUNT]", file=sys.stderr)
        return 2
    generated = generate(Path(argv[0]), int(argv[1]) if len(argv) > 1 else 10)
    print(f"{len(generated.flows)} flows, {len(generated.content)} content files in {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
