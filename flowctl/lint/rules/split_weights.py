"""split-weights: split weights that do not sum to 100, or a variant name used twice.

Fails::

    - id: subject-test
      type: split
      variants:
        - {name: a, weight: 50, steps: [{id: mail-a, type: send_email, mailing: a}]}
        - {name: b, weight: 40, steps: [{id: mail-b, type: send_email, mailing: b}]}

Passes::

    - id: subject-test
      type: split
      variants:
        - {name: a, weight: 50, steps: [{id: mail-a, type: send_email, mailing: a}]}
        - {name: b, weight: 50, steps: [{id: mail-b, type: send_email, mailing: b}]}
"""

from __future__ import annotations

from collections.abc import Iterator

from flowctl.engine.program import whole_number
from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.lint.walk import flow_steps
from flowctl.load import Document

ID = "split-weights"
LEVEL = "error"
KINDS = ("Flow",)


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    for step, pointer in flow_steps(doc.spec):
        variants = step.get("variants")
        if step.get("type") != "split" or not isinstance(variants, list):
            continue
        weights = [whole_number(v.get("weight")) for v in variants if isinstance(v, dict)]
        numbers = [w for w in weights if w is not None]
        if weights and len(numbers) == len(weights) and sum(numbers) != 100:
            shown = " + ".join(str(w) for w in numbers)
            yield Finding(
                f"{pointer}/variants",
                f"split weights sum to {sum(numbers)} ({shown}); they must sum to 100",
            )
        names: set[str] = set()
        for index, variant in enumerate(variants):
            name = variant.get("name") if isinstance(variant, dict) else None
            if name in names:
                yield Finding(
                    f"{pointer}/variants/{index}/name",
                    f"variant name '{name}' is used twice in this split; names must differ",
                )
            if isinstance(name, str):
                names.add(name)
