"""``/metrics`` text: counters, store figures per flow, the tick histogram."""

from __future__ import annotations

from flowctl.http.metrics import Histogram, Metrics, StoreFigures


def test_render_is_prometheus_text() -> None:
    metrics = Metrics(ticks=Histogram((0.01, 0.1)))
    metrics.received["api"] += 3
    for seconds in (0.005, 0.05, 0.5):
        metrics.ticks.observe(seconds)  # type: ignore[union-attr]
    figures = StoreFigures(
        steps={'say "hi"\\': 4},
        participants={("news", "waiting"): 2},
        messages={("news", "sent"): 5},
    )
    text = metrics.render(figures)
    assert text.endswith("\n")
    lines = text.splitlines()
    assert "# TYPE flowctl_events_received_total counter" in lines
    assert 'flowctl_events_received_total{source="api"} 3' in lines
    assert 'flowctl_steps_executed_total{flow="say \\"hi\\"\\\\"} 4' in lines
    assert 'flowctl_participants{flow="news",status="waiting"} 2' in lines
    assert 'flowctl_messages{flow="news",status="sent"} 5' in lines
    buckets = [line for line in lines if line.startswith("flowctl_tick_duration_seconds_bucket")]
    assert buckets == [
        'flowctl_tick_duration_seconds_bucket{le="0.01"} 1',
        'flowctl_tick_duration_seconds_bucket{le="0.1"} 2',
        'flowctl_tick_duration_seconds_bucket{le="+Inf"} 3',
    ]
    assert "flowctl_tick_duration_seconds_count 3" in lines


def test_no_tick_histogram_outside_the_daemon() -> None:
    assert "tick" not in Metrics().render(StoreFigures())
