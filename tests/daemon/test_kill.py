"""Crash safety (architecture principle 7): SIGKILL the daemon at random moments.

A store holds 2,000 participants, each with an e-mail queued while the SMTP
server was down and a delay that has run out. ``flowctl daemon`` runs as a
real process with ``FLOWCTL_NOW`` fixed past every due time (one long
catch-up), sending to an aiosmtpd server in this process, and is killed
with SIGKILL at random moments and restarted, again and again; then
``flowctl daemon --once`` finishes what is left. Nothing may be lost and
nothing queued twice: every participant completes, each idempotency key has
one outbox row, every e-mail ends ``sent``, and the server has received
every Message-ID (at least once: a kill between the send and its commit
sends again, with the same Message-ID).

Both tests are marked ``kill`` and run in the normal suite (``-m kill``
selects them alone).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from flowctl.channels import message_id
from flowctl.engine import COMPLETED
from tests.channels.conftest import SmtpServer, free_port
from tests.daemon.conftest import T0, Flowctl, days, iso, smtp_config

pytestmark = pytest.mark.kill

CONTACTS = 2000
KILLS = 12
TICK = "0.05s"
SEED = 20260302
CATCH_UP = T0 + days(2)
"""The daemon's fixed "now": past every participant's one-day delay."""

KILL_FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: kill}
spec:
  triggers: [{type: form_submitted, form: kill}]
  steps:
    - {id: first-mail, type: send_email, mailing: kill-first}
    - {id: wait-1d, type: delay, duration: 1d}
    - {id: second-mail, type: send_email, mailing: kill-second}
    - {id: done, type: end}
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: kill-first}
spec:
  from: "Acme <news@acme.example>"
  subject: "First, {{ contact.first_name }}"
  text: "Hi {{ contact.first_name }}"
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: kill-second}
spec:
  from: "Acme <news@acme.example>"
  subject: "Second"
  text: "Again"
"""


def daemon_command(flowctl: Flowctl, *args: str) -> list[str]:
    """``flowctl --store DB --config FILE daemon ARGS`` as a process of its own."""
    root = Path(__file__).resolve().parents[2]
    if (root / "flowctl" / "__main__.py").is_file():
        base = [sys.executable, "-m", "flowctl"]
    else:
        base = [sys.executable, "-c", "from flowctl.cli import main; main()"]
    assert flowctl.config is not None
    return [*base, "--store", str(flowctl.db), "--config", str(flowctl.config), "daemon", *args]


def wait_until_started(process: subprocess.Popen[bytes], log: Path, limit: float = 20) -> None:
    """Until the daemon logs that its scheduler runs (it dies or takes too long: fail)."""
    deadline = time.monotonic() + limit
    while b"daemon started" not in log.read_bytes():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the daemon did not start"
        time.sleep(0.01)


def daemon_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWCTL_")}
    env["FLOWCTL_NOW"] = iso(CATCH_UP)
    return env


def prepare(flowctl: Flowctl, contacts: int, port: int) -> None:
    """``contacts`` participants, each with its first e-mail queued (the SMTP server at
    ``port`` is not up yet, so the send failed) and waiting in the delay."""
    flowctl.configure(smtp_config(port, batch_size=200))
    people = [{"email": f"c{i}@example.com", "first_name": f"C{i}"} for i in range(contacts)]
    flowctl.import_contacts(people)
    flowctl.apply(flowctl.write("kill.yaml", KILL_FLOW))
    flowctl.activate("kill")
    flowctl.ingest(
        [
            {
                "type": "form_submitted",
                "contact": {"email": p["email"]},
                "occurred_at": iso(T0),
                "data": {"form": "kill"},
                "id": f"kill-{i}",
            }
            for i, p in enumerate(people)
        ]
    )
    stats = flowctl.once(T0)
    assert (stats["entered"], stats["messages"], stats["delivered"]) == (contacts, contacts, 0)
    with flowctl.store() as store:
        assert store.participant_counts("kill") == {"waiting": contacts}


def test_sigkill_at_random_moments_loses_nothing_and_queues_nothing_twice(
    flowctl: Flowctl, start_smtp: Callable[..., SmtpServer], tmp_path: Path
) -> None:
    port = free_port()
    prepare(flowctl, CONTACTS, port)
    server = start_smtp(port=port)
    rng = random.Random(SEED)
    command = daemon_command(flowctl, "--tick", TICK)
    progress = []
    for attempt in range(KILLS):
        log_path = tmp_path / f"daemon-{attempt}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=tmp_path,
                env=daemon_env(),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                wait_until_started(process, log_path)
                time.sleep(rng.uniform(0.0, 0.8))
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
        with flowctl.store() as store:
            done = store.participant_counts("kill").get(COMPLETED, 0)
        progress.append((len(server.mailbox.received), done))
    # the kills landed while there was work: mail and steps went on between them
    before = [(0, 0), *progress[:-1]]
    moved = sum(1 for earlier, later in zip(before, progress, strict=True) if later != earlier)
    assert moved >= 3, progress

    # a later run takes over what a killed daemon had claimed (its lease ran out)
    for _ in range(20):
        stats = flowctl.once(CATCH_UP + timedelta(minutes=10))
        if not any(stats[k] for k in ("events", "entered", "steps", "delivered", "failed")):
            break
    else:
        pytest.fail("daemon --once still finds work after 20 runs")

    with flowctl.store() as store:
        assert store.participant_counts("kill") == {COMPLETED: CONTACTS}
        outbox = store.messages(flow="kill", limit=10 * CONTACTS)
    keys = Counter(m.key for m in outbox)
    assert len(outbox) == 2 * CONTACTS
    assert set(keys.values()) == {1}
    assert Counter(m.status for m in outbox) == Counter({"sent": 2 * CONTACTS})
    assert Counter(m.step for m in outbox) == Counter(
        {"first-mail": CONTACTS, "second-mail": CONTACTS}
    )

    received = server.mailbox.received
    for mail in received:
        key, mid = mail.message["X-Flowctl-Key"], mail.message["Message-ID"]
        assert key is not None and mid is not None, mail.message
        assert str(mid).strip() == message_id(str(key))
    got = Counter(str(m.message["Message-ID"]).strip() for m in received)
    assert set(got) == {message_id(key) for key in keys}
    duplicates = sum(n - 1 for n in got.values())
    assert duplicates <= KILLS * 2  # at most the message(s) in flight at each kill
    print(json.dumps({"received": len(received), "duplicates": duplicates, "progress": progress}))


def test_sigterm_stops_the_daemon_cleanly(
    flowctl: Flowctl, start_smtp: Callable[..., SmtpServer], tmp_path: Path
) -> None:
    port = free_port()
    prepare(flowctl, 300, port)
    server = start_smtp(port=port)
    log_path = tmp_path / "daemon.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            daemon_command(flowctl, "--tick", TICK),
            cwd=tmp_path,
            env=daemon_env(),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 20
            while not server.mailbox.received and time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.02)
            assert server.mailbox.received, "the daemon sent nothing"
            stopped_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    took = time.monotonic() - stopped_at
    text = log_path.read_text()
    assert code == 0, text
    assert took < 5, f"SIGTERM took {took:.1f}s"
    assert "daemon stopped" in text
    assert "Traceback" not in text

    # it stopped after a whole batch: nothing is left claimed ("sending") for a lease to
    # run out, so a run at the same instant finishes the rest
    with flowctl.store() as store:
        assert store.messages(flow="kill", status="sending", limit=10_000) == []
    for _ in range(10):
        stats = flowctl.once(CATCH_UP)
        if not any(stats[k] for k in ("events", "steps", "delivered")):
            break
    with flowctl.store() as store:
        assert store.participant_counts("kill") == {COMPLETED: 300}
        outbox = store.messages(flow="kill", limit=10_000)
    assert Counter(m.status for m in outbox) == Counter({"sent": 600})
