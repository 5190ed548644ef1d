"""``flowctl messages`` shows how often each tracked e-mail was opened and clicked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FLOWS, Run


def test_messages_count_opens_and_clicks_per_message_and_mailing(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(tmp_path / "flowctl.db")
    monkeypatch.setenv("FLOWCTL_NOW", "2026-03-02T09:00:00+01:00")
    assert cli("apply", FLOWS, "--store", store).code == 0
    assert cli("activate", "lead-nurture", "--yes", "--store", store).code == 0
    for who in ("kari@example.no", "ola@example.no"):
        contact = json.dumps({"email": who, "category": "prospect"})
        line = json.dumps(
            {
                "type": "form_submitted",
                "contact": json.loads(contact),
                "data": {"form": "contact-me"},
            }
        )
        events = tmp_path / f"{who}.jsonl"
        events.write_text(line + "\n")
        assert cli("event", "ingest", events, "--store", store).code == 0
    assert cli("daemon", "--once", "--store", store).code == 0
    sent = cli("messages", "--store", store, "-o", "json").json()
    kari = next(m for m in sent if m["contact"] == "kari@example.no")
    opened = tmp_path / "opens.jsonl"
    opens = [
        {
            "type": kind,
            "contact": {"email": "kari@example.no"},
            "data": {
                "mailing": kari["content"],
                "message": kari["key"],
                "url": "https://x.example",
            },
        }
        for kind in ("email_opened", "email_opened", "email_link_clicked")
    ]
    opened.write_text("".join(json.dumps(o) + "\n" for o in opens))
    assert cli("event", "ingest", opened, "--store", store).code == 0

    rows = {m["contact"]: m for m in cli("messages", "--store", store, "-o", "json").json()}
    assert (rows["kari@example.no"]["opened"], rows["kari@example.no"]["clicked"]) == (2, 1)
    assert (rows["ola@example.no"]["opened"], rows["ola@example.no"]["clicked"]) == (0, 0)
    table = cli("messages", "--store", store)
    assert table.code == 0
    summary = [line.split() for line in table.out.splitlines() if line.startswith(kari["content"])]
    assert summary == [[kari["content"], "2", "1", "1"]]
