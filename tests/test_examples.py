"""Every example in flows/ is valid, with no warnings, validated together."""

from __future__ import annotations

from tests.conftest import FLOWS


def test_examples_validate_without_warnings(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("validate", "--fail-on", "warning", "-o", "json", FLOWS)
    assert run.code == 0, run.out
    data = run.json()
    assert data["diagnostics"] == []
    assert data["files"] == len(list(FLOWS.rglob("*.yaml")))


def test_examples_cover_each_seed_flow() -> None:
    names = {p.stem for p in FLOWS.glob("*.yaml")}
    assert {
        "offer-upsell",
        "lead-nurture",
        "customer-onboarding",
        "webinar-registration",
        "payment-recovery",
        "subject-line-ab",
    } <= names
