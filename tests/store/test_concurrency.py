"""Two OS processes writing one SQLite store at once: nothing lost, nobody locked out.

One process runs ``flowctl event send`` again and again (each an in-process
CLI invocation that opens the store, writes and closes it); the other
ingests a few thousand events in small batches, so the two keep taking the
write lock from each other. The store's busy timeout must make each wait
its turn: no "database is locked", no failed command, every event stored.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from flowctl.store import open_store

MIN_SENDS = 20
INGESTED = 3000
TIMEOUT = 60

# Both wait for "go" once imported, so their writes overlap from the start;
# the sender goes on until the ingester is done, so they overlap to the end.
START = """
import sys, time
from pathlib import Path

folder = Path(sys.argv[1])
(folder / f"ready-{sys.argv[2]}").touch()
while not (folder / "go").exists():
    time.sleep(0.005)
"""

SENDER = (
    "from flowctl.cli import main\n"
    + START
    + """
store = str(folder / "flowctl.db")
sent = failed = 0
while sent < MIN_SENDS or not (folder / "ingested").exists():
    argv = ["event", "send", "page_visited", "--contact", f"id:s{sent % 7}",
            "--id", f"send-{sent}", "--data", f"n={sent}", "--store", store]
    failed += main(argv) != 0
    sent += 1
print("sent", sent, file=sys.stderr)
sys.exit(1 if failed else 0)
""".replace("MIN_SENDS", str(MIN_SENDS))
)

INGESTER = (
    "from flowctl import clock\n"
    "from flowctl.load.records import read_records\n"
    "from flowctl.operate.intake import ingest_events\n"
    "from flowctl.store import open_store\n"
    + START
    + """
with open_store(str(folder / "flowctl.db")) as st:
    events = read_records(folder / "events.jsonl")
    result = ingest_events(st, events, clock.now(), batch_size=25)
(folder / "ingested").touch()
print(result.added, result.duplicates, len(result.rejected))
"""
)


def _spawn(script: str, folder: Path, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, str(folder), name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_event_send_and_ingest_in_two_processes_lose_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "flowctl.db")
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "type": "tag_added" if i % 10 == 0 else "email_opened",
                    "contact": {"email": f"p{i % 50}@example.com"},
                    "id": f"ingest-{i}",
                    "data": {"tag": f"t{i % 3}"} if i % 10 == 0 else {"mailing": "m"},
                }
            )
            + "\n"
            for i in range(INGESTED)
        ),
        encoding="utf-8",
    )
    # Both start on a store that does not exist yet: creating it is raced too.
    sender = _spawn(SENDER, tmp_path, "sender")
    ingester = _spawn(INGESTER, tmp_path, "ingester")
    deadline = time.monotonic() + TIMEOUT
    while not all((tmp_path / f"ready-{n}").exists() for n in ("sender", "ingester")):
        assert time.monotonic() < deadline, "the writers did not start"
        assert sender.poll() is None and ingester.poll() is None, "a writer died on start"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    sent_out, sent_err = sender.communicate(timeout=TIMEOUT)
    ingest_out, ingest_err = ingester.communicate(timeout=TIMEOUT)

    for err in (sent_err, ingest_err):
        assert "database is locked" not in err
        assert "Traceback" not in err
    assert sender.returncode == 0, sent_err
    assert ingester.returncode == 0, ingest_err
    assert ingest_out.split() == [str(INGESTED), "0", "0"]
    sends = int(sent_err.split()[-1])
    assert sends >= MIN_SENDS
    assert sent_out.count("recorded for") == sends

    sent_ids = [f"send-{i}" for i in range(sends)]
    ingested_ids = [f"ingest-{i}" for i in range(INGESTED)]
    with open_store(db) as st:
        assert st.known_event_ids(sent_ids) == set(sent_ids)
        assert st.known_event_ids(ingested_ids) == set(ingested_ids)
        assert st.count_contacts() == 7 + 50
        stored = [
            e
            for c in st.contacts(limit=100)
            for e in st.events_for(c.cid, limit=10_000)
            if e["id"] is not None
        ]
    assert len(stored) == sends + INGESTED
