"""Mermaid and DOT diagrams of a flow."""

from __future__ import annotations

from flowctl.graph import to_dot, to_mermaid
from tests.engine.helpers import flow

PROGRAM = flow(
    [
        {
            "id": "d",
            "type": "decision",
            "if": {"tag": "vip"},
            "then": [{"id": "vip", "type": "add_tag", "tag": "v"}],
        },
        {
            "id": "w",
            "type": "wait_until",
            "condition": {"event": "form_submitted"},
            "timeout": "1d",
            "on_timeout": [{"id": "late", "type": "end"}],
        },
        {
            "id": "ab",
            "type": "split",
            "variants": [
                {"name": "alpha", "weight": 50, "steps": []},
                {
                    "name": "beta",
                    "weight": 50,
                    "steps": [{"id": "back", "type": "goto", "step": "w"}],
                },
            ],
        },
    ],
    success={"when": {"event": "sale_created"}},
    exit_when={"tag": "stop"},
)


def test_mermaid_has_triggers_labelled_branches_goto_and_notes() -> None:
    text = to_mermaid(PROGRAM)
    assert text.startswith("flowchart TD\n")
    for label in ("|then|", "|else|", "|met|", "|timeout|", "|alpha|", "|beta|"):
        assert label in text
    assert "-.->|goto|" in text
    assert "trigger: manual" in text
    assert "success: event sale_created" in text
    assert "exit when: tag stop" in text
    assert 'done(("completed"))' in text


def test_dot_is_a_digraph_with_same_edges() -> None:
    text = to_dot(PROGRAM.doc)
    assert text.startswith('digraph "t" {')
    assert 'label="timeout"' in text
    assert "style=dashed" in text
    assert text.rstrip().endswith("}")
