"""``flowctl report`` and ``flowctl why`` as commands: output, options, errors, start-up cost.

The figures themselves are checked in ``tests/report``; here: what the
terminal shows, ``--html`` (to a file, to stdout, with ``-o json``), usage
errors with exit code 2, an unknown flow with exit code 1, ``describe``'s
mailing stats, and that registering the commands imports nothing heavy.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.daemon.conftest import T0, Flowctl, days
from tests.daemon.conftest import flowctl as flowctl
from tests.daemon.conftest import webhooks as webhooks
from tests.report.conftest import AB_FLOW, MAILINGS, run_scenario


def test_report_terminal_shows_figures_funnel_and_mailings(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    out = flowctl.ok("report", "ab-report").out
    assert "flow/ab-report — Offer A/B test" in out
    assert "Participants 20" in out and "Succeeded 1" in out and "Success rate 5.0%" in out
    assert "waiting 8" in out and "completed 11" in out
    assert "Entries 20 in 3 days, peak 12 on 2026-03-02" in out
    assert any(mark in out for mark in "▁▂▃▄▅▆▇█")
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.strip():
            rows.setdefault(line.split()[0], []).append(line)
    [clicked], [waiting] = rows["clicked"], rows["wait-2d"]
    assert "then 2 · else 9" in clicked
    assert "waited 11" in waiting and "▒" in waiting  # 8 in the step now
    step, mailing = rows["welcome"]
    assert "sent 20" in step and "█" in step
    assert mailing.split() == ["welcome", "20", "1", "5.0%", "0", "0.0%"]


def test_report_html_to_stdout_and_with_json(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    page = flowctl.ok("report", "ab-report", "--html", "-").out
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    path = flowctl.tmp_path / "r.html"
    run = flowctl.ok("report", "ab-report", "--html", path, "-o", "json")
    assert json.loads(run.out)["participants"] == 20
    assert f"written to {path}" in run.err
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_of_a_flow_nobody_entered(flowctl: Flowctl) -> None:
    flowctl.apply(flowctl.write("ab.yaml", AB_FLOW))
    data = flowctl.json("report", "ab-report")
    assert (data["participants"], data["succeeded"], data["success_rate"]) == (0, 0, 0.0)
    assert data["entries"] == {}
    assert data["steps"]["welcome"] == {
        "type": "send_email",
        "reached": 0,
        "outcomes": {},
        "pending": 0,
    }
    assert data["mailings"]["welcome"] == {
        "sent": 0,
        "opened": 0,
        "clicked": 0,
        "open_rate": 0.0,
        "click_rate": 0.0,
    }
    assert "none yet" in flowctl.ok("report", "ab-report").out
    assert "No one has entered yet" in flowctl.ok("report", "ab-report", "--html", "-").out


def test_a_flow_deleted_and_applied_again_starts_with_no_mailing_figures(
    flowctl: Flowctl,
) -> None:
    run_scenario(flowctl)
    assert flowctl.json("report", "ab-report")["mailings"]["welcome"]["sent"] > 0
    flowctl.ok("deactivate", "ab-report", "--cancel-scheduled", "--yes")
    flowctl.ok("delete", "ab-report")
    flowctl.apply(flowctl.write("ab.yaml", AB_FLOW + MAILINGS))
    again = flowctl.json("report", "ab-report")
    assert again["participants"] == 0
    assert {m["sent"] for m in again["mailings"].values()} == {0}
    assert flowctl.json("messages", "--flow", "ab-report")  # still in the outbox


def test_report_usage_errors(flowctl: Flowctl) -> None:
    flowctl.apply(flowctl.write("ab.yaml", AB_FLOW))
    bad = flowctl("report", "ab-report", "--since", "last tuesday")
    assert bad.code == 2
    assert "--since 'last tuesday' is neither a date, an instant nor a duration" in bad.err
    swapped = flowctl("report", "ab-report", "--since", "2026-03-05", "--until", "2026-03-01")
    assert swapped.code == 2 and "is after --until" in swapped.err
    nowhere = flowctl("report", "ab-report", "--html", flowctl.tmp_path / "no" / "r.html")
    assert nowhere.code == 2 and "cannot write the report" in nowhere.err
    assert "Traceback" not in bad.err + swapped.err + nowhere.err


def test_report_unknown_flow(flowctl: Flowctl) -> None:
    flowctl.apply(flowctl.write("ab.yaml", AB_FLOW))
    run = flowctl("report", "ab-reprt")
    assert run.code == 1
    assert "there is no flow 'ab-reprt'" in run.err and "ab-report" in run.err


def test_report_needs_the_view_right(flowctl: Flowctl) -> None:
    flowctl.apply(flowctl.write("ab.yaml", AB_FLOW))
    flowctl.ok("users", "add", "lena", "--role", "content-editor")
    assert flowctl("report", "ab-report").code == 1  # FLOWCTL_USER names no user
    flowctl._monkeypatch.setenv("FLOWCTL_USER", "lena")
    assert flowctl.json("report", "ab-report")["flow"] == "ab-report"


def test_describe_shows_mailing_stats(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    out = flowctl.ok("describe", "ab-report").out
    assert "Mailings" in out
    assert "welcome: sent 20, opened 1 (5.0%), clicked 0 (0.0%)" in out
    assert "success rate: 5.0%" in out


def test_why_json_for_a_participant(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    data = flowctl.json("why", "ab-report", "--contact", "id:c12")
    assert data["verdict"] == "participant"
    assert [e["decision"] for e in data["events"]] == ["entered"]
    assert data["participations"][0]["step"] == "wait-2d"


def test_registering_the_commands_imports_nothing_heavy() -> None:
    code = (
        "import sys, flowctl.cli; "
        "print([m for m in sys.modules if m.startswith(('flowctl.report', 'flowctl.operate', "
        "'flowctl.store', 'flowctl.engine', 'sqlite_utils', 'jinja2'))])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


QUICK = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: quick}
spec:
  triggers: [{type: form_submitted, form: quick}]
  steps:
    - {id: hello, type: add_tag, tag: greeted}
"""


def test_a_deleted_flow_leaves_nothing_behind_for_one_applied_under_its_name(
    flowctl: Flowctl,
) -> None:
    flowctl.apply(flowctl.write("quick.yaml", QUICK))
    flowctl.activate("quick")
    flowctl.import_contacts([{"id": "ann", "email": "ann@example.com"}])
    flowctl.send("form_submitted", "ann@example.com", form="quick")
    flowctl.once()
    flowctl.ok("deactivate", "quick", "--yes")
    flowctl.ok("delete", "quick")
    gone = flowctl("report", "quick")
    assert gone.code == 1 and "quick" in gone.err

    flowctl.apply(flowctl.write("quick.yaml", QUICK))  # reentry: never (the default)
    flowctl.activate("quick")
    assert flowctl.json("report", "quick")["participants"] == 0
    flowctl.send("form_submitted", "ann@example.com", form="quick")
    flowctl.once()
    assert flowctl.json("report", "quick")["participants"] == 1
    assert flowctl.participant("quick", "ann@example.com")["status"] == "completed"


def test_report_for_a_period_counts_the_participations_entered_in_it(flowctl: Flowctl) -> None:
    flowctl.apply(
        flowctl.write("quick.yaml", QUICK.replace("steps:", "reentry: after_exit\n  steps:"))
    )
    flowctl.activate("quick")
    flowctl.send("form_submitted", "ann@example.com", form="quick")
    flowctl.once()
    flowctl.at(T0 + days(3)).send("form_submitted", "bo@example.com", form="quick")
    flowctl.once()
    whole = flowctl.json("report", "quick")
    assert (whole["participants"], whole["statuses"]["completed"]) == (2, 2)
    later = flowctl.json("report", "quick", "--since", (T0 + days(2)).date().isoformat())
    assert (later["participants"], later["statuses"]["completed"]) == (1, 1)
