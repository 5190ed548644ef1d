"""The report page's stylesheet, inlined into every page (no network needed).

Responsive by construction: the page is one column up to 62rem wide; the
KPI cards, the diagram's branches and the chart rows wrap or stack on a
narrow screen; charts scale to the width they get. Light and dark schemes
follow the reader's setting.
"""

from __future__ import annotations

from typing import Final

PALETTE: Final = (
    "#2f6fde",
    "#e07b28",
    "#2a9d6f",
    "#c2417a",
    "#7a5cd6",
    "#b59a1a",
    "#1b9bb8",
    "#8a6d58",
)
"""Colours of outcomes and branches, in order; ``pending`` has its own."""

CSS: Final = """
:root {
  --fg: #1d2330; --muted: #5d6778; --bg: #f6f7fb; --card: #ffffff; --line: #d9dee8;
  --ok: #2a9d6f; --pending: #e3a72f; --accent: #2f6fde; --track: #e9edf4;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e7eaf1; --muted: #a2abbb; --bg: #141820; --card: #1d2230; --line: #343b4d;
    --track: #2a3142;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
}
main { max-width: 62rem; margin: 0 auto; padding: 1rem; }
header h1 { font-size: 1.45rem; margin: .25rem 0; overflow-wrap: anywhere; }
header p { margin: .1rem 0; color: var(--muted); }
section {
  background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: .9rem 1rem; margin: 1rem 0;
}
h2 { font-size: 1.1rem; margin: 0 0 .6rem; }
h3 { font-size: .95rem; margin: .8rem 0 .4rem; }
.note { color: var(--muted); font-size: .85rem; margin: .3rem 0 0; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .6rem; }
.kpi { border: 1px solid var(--line); border-radius: 8px; padding: .5rem .7rem; }
.kpi b { display: block; font-size: 1.5rem; }
.kpi span { color: var(--muted); font-size: .85rem; }
.rows { display: flex; flex-direction: column; gap: .35rem; }
.row { display: grid; grid-template-columns: 11rem 1fr 8.5rem; gap: .6rem; align-items: center; }
.row.sub .label { padding-left: 1rem; }
.rows .label { overflow-wrap: anywhere; font-size: .9rem; }
.rows .value { font-variant-numeric: tabular-nums; text-align: right; font-size: .9rem; }
.track { background: var(--track); border-radius: 4px; height: 1.1rem; display: flex;
  overflow: hidden; }
.seg { height: 100%; min-width: 0; }
.seg.pending { background: repeating-linear-gradient(45deg, var(--pending), var(--pending) 4px,
  transparent 4px, transparent 7px); }
.legend { display: flex; flex-wrap: wrap; gap: .3rem .9rem; font-size: .85rem; margin: .3rem 0; }
.legend i { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px;
  margin-right: .3rem; vertical-align: -1px; }
.chart svg { width: 100%; height: 11rem; display: block; }
.chart svg rect.bar { fill: var(--accent); }
.chart svg line { stroke: var(--line); stroke-width: 1; }
.axis { display: flex; justify-content: space-between; color: var(--muted); font-size: .8rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { padding: .3rem .4rem; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
.flow { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column;
  align-items: stretch; }
.flow > li { position: relative; margin-top: 1.1rem; }
.flow > li:first-child { margin-top: 0; }
.flow > li + li::before { content: "▼"; position: absolute; top: -1.15rem; left: 1.2rem;
  color: var(--muted); font-size: .75rem; }
.box { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px;
  padding: .4rem .6rem; background: var(--card); }
.box.trigger { border-left-color: #7a5cd6; }
.box.filter { border-left-color: #b59a1a; }
.box.control { border-left-color: #e07b28; }
.box.end { border-left-color: var(--muted); }
.box .id { font-weight: 600; overflow-wrap: anywhere; }
.box .kind { color: var(--muted); font-size: .8rem; margin-left: .3rem; }
.box .detail { font-size: .85rem; color: var(--muted); overflow-wrap: anywhere; }
.box .nums { font-size: .85rem; margin-top: .15rem; }
.chip { display: inline-block; border-radius: 999px; padding: 0 .45rem; margin: .1rem .2rem 0 0;
  font-size: .78rem; color: #fff; }
.branches { display: flex; flex-wrap: wrap; gap: .6rem; margin: .6rem 0 0 .8rem; }
.branch { flex: 1 1 14rem; min-width: 0; border-top: 3px solid var(--line); padding-top: .4rem; }
.branch > .label { font-size: .85rem; font-weight: 600; margin-bottom: .4rem; }
.branch > .empty { font-size: .85rem; color: var(--muted); }
a { color: var(--accent); }
@media (max-width: 34rem) {
  main { padding: .5rem; }
  .row { grid-template-columns: 1fr auto; gap: .1rem .6rem; }
  .row .track { grid-column: 1 / -1; grid-row: 2; }
  .branches { margin-left: .3rem; }
}
@media print { section { break-inside: avoid; } }
"""
