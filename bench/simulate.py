"""Issue 3's figures: a 100,000-contact forecast and one-contact ``flowctl simulate``.

The flow has 10 steps: two e-mails, a tag, a decision, an A/B split and two
delays. Contacts vary in tags and country so both branches are taken.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from bench.measure import Measurement, Settings, Target, best_of, tool

CONTACTS = 100_000
CONTACTS_QUICK = 10_000
START = "2026-03-02T08:00:00+01:00"

FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: bench-forecast}
spec:
  timezone: Europe/Oslo
  triggers: [{type: form_submitted, form: contact-me}]
  filter: {not: {tag: blocked}}
  steps:
    - {id: welcome, type: send_email, mailing: welcome}
    - {id: wait-2d, type: delay, duration: 2d}
    - id: is-nordic
      type: decision
      if: {field: contact.country, in: [NO, SE, DK]}
      then:
        - {id: tag-nordic, type: add_tag, tag: nordic}
      else:
        - {id: tag-world, type: add_tag, tag: world}
    - id: subject-test
      type: split
      variants:
        - {name: a, weight: 50, steps: [{id: mail-a, type: send_email, mailing: a}]}
        - {name: b, weight: 50, steps: [{id: mail-b, type: send_email, mailing: b}]}
    - {id: wait-morning, type: delay, until: "09:00", days: [mon, tue, wed, thu, fri]}
    - {id: done, type: end}
"""


def run(settings: Settings) -> list[Measurement]:
    count = CONTACTS_QUICK if settings.quick else CONTACTS
    folder = settings.data_dir / "simulate"
    folder.mkdir(parents=True, exist_ok=True)
    flow = folder / "bench-forecast.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    people = _contacts(folder / f"contacts-{count}.csv", count)
    flowctl = tool("flowctl")
    forecast_argv = [flowctl, "simulate", str(flow), "--participants", str(people)]
    forecast = best_of(1 if settings.quick else 2, [*forecast_argv, "--start", START, "-o", "json"])
    result = json.loads(forecast[0].stdout)
    if result["participants"] != count:
        raise RuntimeError(f"forecast saw {result['participants']} of {count} contacts")
    contact = '{"email": "ann@example.com", "country": "NO"}'
    one = best_of(5, [flowctl, "simulate", str(flow), "--participant", contact, "--start", START])
    return [
        Measurement(
            f"forecast, {count:,} contacts, 10-step flow",
            forecast[0].wall,
            "s",
            target=Target(5.0, inclusive=False),
            detail={
                "runs": [r.wall for r in forecast],
                "peak_rss_mb": max(r.peak_rss_mb for r in forecast),
                "enrolled": result["enrolled"],
            },
        ),
        Measurement(
            "forecast peak memory",
            max(r.peak_rss_mb for r in forecast),
            "MB",
            target=Target(300, inclusive=False),
        ),
        Measurement(
            "one-contact simulate",
            one[0].wall,
            "s",
            target=Target(0.4, inclusive=False),
            detail={"runs": [r.wall for r in one]},
        ),
    ]


def _contacts(path: Path, count: int) -> Path:
    if path.exists():
        return path
    rng = random.Random(3)
    lines = ["id,email,country,tags"]
    for i in range(count):
        country = rng.choice(["NO", "SE", "DK", "DE", "US"])
        tags = rng.choice(["", "", "", "newsletter", "blocked"])
        lines.append(f"c{i},c{i}@example.com,{country},{tags}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
