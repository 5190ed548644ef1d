"""FlowTest runner (spec §12)."""

from __future__ import annotations

from pathlib import Path

from flowctl.simulate import run_flow_test_file

FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: offer-upsell}
spec:
  timezone: Europe/Stockholm
  triggers:
    - {type: funnel_form_subscribed, form: optin-page}
  steps:
    - {id: sub-c1, type: subscribe_campaign, campaign: campaign-1}
    - {id: give-them-time, type: delay, duration: 5d}
    - id: bought-offer-1
      type: decision
      if: {tag: customer-1}
      then:
        - {id: unsub-c1, type: unsubscribe_campaign, campaign: campaign-1}
        - {id: sub-c2, type: subscribe_campaign, campaign: campaign-2}
"""

TEST = """\
apiVersion: flowctl/v1
kind: FlowTest
metadata: {name: buyer-moves-on}
spec:
  flow: flows/upsell.yaml
  contact: {email: ann@example.com, tags: []}
  start: "2026-03-02T08:00:00+01:00"
  events:
    - {type: funnel_form_subscribed, at: "+0m", data: {form: optin-page}}
    - {type: tag_added, at: "+2d", data: {tag: customer-1}}
  expect:
    status: completed
    succeeded: false
    path: [sub-c1, give-them-time, bought-offer-1, unsub-c1, sub-c2]
    path_contains: [sub-c1, sub-c2]
    effects:
      - {step: sub-c2, type: subscribe_campaign, at: "+5d", campaign: campaign-2}
---
apiVersion: flowctl/v1
kind: FlowTest
metadata: {name: wrong-expectation}
spec:
  flow: flows/upsell.yaml
  contact: {email: bob@example.com}
  expect:
    status: completed
    path: [sub-c1, give-them-time, bought-offer-1, unsub-c1]
"""


def _write(tmp_path: Path, test_text: str = TEST) -> Path:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "upsell.yaml").write_text(FLOW)
    path = tmp_path / "upsell.test.yaml"
    path.write_text(test_text)
    return path


def test_flow_test_passes_and_fails_with_diff(tmp_path: Path) -> None:
    passed, failed = run_flow_test_file(_write(tmp_path))
    assert passed.passed, passed.failures
    assert not failed.passed
    assert any(f.startswith("path:") for f in failed.failures)
    assert "--- expected" in failed.diff
    assert '-    "unsub-c1"' in failed.diff


def test_flow_test_missing_flow_file_fails_the_case(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(TEST.replace("flows/upsell.yaml", "flows/missing.yaml"))
    cases = run_flow_test_file(path)
    assert len(cases) == 2 and all("not found" in c.failures[0] for c in cases)


def test_flow_test_unparseable_event_time_fails_that_case_with_position(tmp_path: Path) -> None:
    path = _write(tmp_path, TEST.replace('at: "+2d"', "at: someday"))
    case, other = run_flow_test_file(path)
    assert not case.passed and other.name == "wrong-expectation"
    assert f"{path}:" in case.failures[0] and "someday" in case.failures[0]
    assert "[schema]" in case.failures[0]


def test_flow_test_invalid_case_does_not_hide_the_others_in_its_file(tmp_path: Path) -> None:
    first = TEST.split("---\n")[0]
    broken = first.replace("name: ", "name: broken-").replace("expect:", "expect:\n    stauts: x")
    path = _write(tmp_path, first + "---\n" + broken)
    good, bad = run_flow_test_file(path)
    assert good.passed and not bad.passed
    assert bad.name.startswith("broken-") and "unknown key 'stauts'" in bad.failures[0]


def test_flow_test_reason_of_an_entered_contact_is_why_it_left(tmp_path: Path) -> None:
    exits = FLOW.replace(
        "  steps:\n", "  exit_when: {field: contact.unsubscribed, eq: true}\n  steps:\n", 1
    )
    tests = """\
apiVersion: flowctl/v1
kind: FlowTest
metadata: {name: unsubscribes-and-leaves}
spec:
  flow: flows/upsell.yaml
  contact: {email: ann@example.com}
  events:
    - {type: funnel_form_subscribed, at: "+0m", data: {form: optin-page}}
    - {type: contact_updated, at: "+1d", data: {set: {unsubscribed: true}}}
  expect: {enrolled: true, status: exited, reason: exit_when}
"""
    path = _write(tmp_path, tests)
    (tmp_path / "flows" / "upsell.yaml").write_text(exits)
    (left,) = run_flow_test_file(path)
    assert left.passed, left.failures
