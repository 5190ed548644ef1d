"""flowctl benchmarks: ``make bench`` (``python -m bench [NAME...] [--quick]``).

Each benchmark is a module with ``run(settings) -> list[Measurement]``,
registered in :mod:`bench.registry`. The harness prints a table and writes
``bench/results/<timestamp>.json`` and ``bench/results/latest.json``.
Benchmarks are not tests: nothing here fails a build on a time.
"""
