"""Scale-out (architecture principle 5): three daemons share one PostgreSQL store,
and one of them is killed with SIGKILL again and again.

2,000 participants wait in a one-day delay with their first e-mail queued
(sent while the SMTP server was down). Three ``flowctl daemon`` processes run
against the same PostgreSQL database with ``FLOWCTL_NOW`` fixed past every
due time, sending to an aiosmtpd server in this process: they claim due
participants, the events the steps emit (``add_tag``) and the messages to
deliver, each with ``FOR UPDATE SKIP LOCKED``. One of them is killed at
random moments and started again; the other two run throughout. Then a
``flowctl daemon --once`` after the delivery lease takes over what a killed
daemon had claimed. Every participant completes, each step of each visit
is in the history once, each idempotency key has one outbox row, and every
e-mail is sent.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from flowctl.engine import COMPLETED
from tests.channels.conftest import Mailbox, SmtpServer, free_port
from tests.daemon.conftest import T0, Flowctl, days, iso, smtp_config
from tests.daemon.test_kill import daemon_command, daemon_env, wait_until_started
from tests.store.conftest import server as postgres_server

pytestmark = pytest.mark.kill

CONTACTS = 2000
DAEMONS = 3
TICK = "0.05s"
SEED = 20260303
DEADLINE = 90.0
"""Seconds the three daemons get to finish everything (about 20 on a quiet 2-core machine)."""
CATCH_UP = T0 + days(2)
SMTP_DELAY = 0.002

FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: shared}
spec:
  triggers: [{type: form_submitted, form: shared}]
  steps:
    - {id: first-mail, type: send_email, mailing: shared-first}
    - {id: wait-1d, type: delay, duration: 1d}
    - {id: tag-it, type: add_tag, tag: shared}
    - {id: second-mail, type: send_email, mailing: shared-second}
    - {id: done, type: end}
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: shared-first}
spec: {from: "Acme <news@acme.example>", subject: "First, {{ contact.first_name }}", text: "Hi"}
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: shared-second}
spec: {from: "Acme <news@acme.example>", subject: "Second", text: "Again"}
"""


class SlowMailbox(Mailbox):
    """Takes a few milliseconds per message, as a real server does: delivery lasts
    seconds however fast the machine, so the kills land while there is work."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(SMTP_DELAY)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def pg_store(flowctl: Flowctl) -> Iterator[str]:
    """A PostgreSQL database for ``flowctl`` (skips without PostgreSQL's binaries)."""
    pg = postgres_server()
    url = pg.create_database()
    flowctl.db = url  # type: ignore[assignment]
    yield url
    pg.drop_database(url)


def prepare(flowctl: Flowctl, port: int) -> None:
    flowctl.configure(smtp_config(port, batch_size=100))
    people = [{"email": f"s{i}@example.com", "first_name": f"S{i}"} for i in range(CONTACTS)]
    flowctl.import_contacts(people)
    flowctl.apply(flowctl.write("shared.yaml", FLOW))
    flowctl.activate("shared")
    flowctl.ingest(
        [
            {
                "type": "form_submitted",
                "contact": {"email": p["email"]},
                "occurred_at": iso(T0),
                "data": {"form": "shared"},
                "id": f"shared-{i}",
            }
            for i, p in enumerate(people)
        ]
    )
    stats = flowctl.once(T0)
    assert (stats["entered"], stats["messages"], stats["delivered"]) == (CONTACTS, CONTACTS, 0)


def test_three_daemons_one_killed_repeatedly_share_the_work_exactly_once(
    flowctl: Flowctl, pg_store: str, start_smtp: Callable[..., SmtpServer], tmp_path: Path
) -> None:
    port = free_port()
    prepare(flowctl, port)
    server = start_smtp(port=port, mailbox=SlowMailbox())
    command = daemon_command(flowctl, "--tick", TICK)
    rng = random.Random(SEED)
    logs: list[Path] = []

    def spawn(name: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=tmp_path, env=daemon_env(), stdout=subprocess.DEVNULL, stderr=out
            )
        return process, log

    # all three start together, so they compete for the same rows from the first tick
    started = [spawn(f"steady-{n}") for n in range(DAEMONS - 1)] + [spawn("victim-0")]
    for process, log in started:
        wait_until_started(process, log)
    steady = [process for process, _ in started[:-1]]
    victim = started[-1][0]
    kills = 0
    deadline = time.monotonic() + DEADLINE
    try:
        while True:
            time.sleep(rng.uniform(0.1, 0.6))
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            assert victim.returncode == -signal.SIGKILL
            kills += 1
            for process in steady:
                assert process.poll() is None, "a daemon that was not killed died"
            if _finished(flowctl) or time.monotonic() > deadline:
                break
            victim, log = spawn(f"victim-{kills}")
            wait_until_started(victim, log)
    finally:
        for process in steady:
            process.send_signal(signal.SIGTERM)
        for process in steady:
            process.wait(timeout=20)
    assert _finished(flowctl), f"not done after {DEADLINE}s and {kills} kills"
    assert kills >= 3, kills
    for process in steady:
        assert process.returncode == 0
    texts = {log.name: log.read_text(errors="replace") for log in logs}
    assert not [name for name, text in texts.items() if "Traceback" in text]
    # the work was shared: the steps and the deliveries each by more than one daemon
    assert sum("batch kind=due" in text for text in texts.values()) >= 2, _work(texts)
    assert sum("delivery sent=" in text for text in texts.values()) >= 2, _work(texts)

    # a later run takes over the messages a killed daemon had claimed (their lease ran out)
    for _ in range(10):
        stats = flowctl.once(CATCH_UP + timedelta(minutes=10))
        if not any(stats[k] for k in ("events", "steps", "delivered", "failed")):
            break

    with flowctl.store() as store:
        assert store.participant_counts("shared") == {COMPLETED: CONTACTS}
        states = [r["state"] for r in store.participant_rows("shared", limit=10 * CONTACTS)]
        history = store.history(flow="shared", limit=100 * CONTACTS)
        outbox = store.messages(flow="shared", limit=10 * CONTACTS)
    ran = Counter((h.participant, h.step) for h in history if h.step is not None)
    visits = Counter({(s.id, step): n for s in states for step, n in s.visits.items()})
    assert ran == visits  # each (participant, step, visit) once in the history
    assert len(ran) == 5 * CONTACTS
    keys = Counter(m.key for m in outbox)
    assert len(outbox) == 2 * CONTACTS and set(keys.values()) == {1}
    assert Counter(m.status for m in outbox) == {"sent": 2 * CONTACTS}
    got = Counter(str(m.message["X-Flowctl-Key"]) for m in server.mailbox.received)
    assert set(got) == set(keys)
    assert sum(n - 1 for n in got.values()) <= kills * 2  # resent: only what was in flight


def _work(texts: dict[str, str]) -> dict[str, Counter[str]]:
    """Per daemon log, its batches and deliveries (shown when sharing is asserted)."""
    return {
        name: Counter(
            line.split()[4] for line in text.splitlines() if " batch " in line or "delivery" in line
        )
        for name, text in texts.items()
    }


def _finished(flowctl: Flowctl) -> bool:
    """Every participant completed and nothing is left queued (claimed leases may remain)."""
    with flowctl.store() as store:
        done = store.participant_counts("shared") == {COMPLETED: CONTACTS}
        return done and not store.messages(flow="shared", status="queued", limit=1)
