"""``python -m bench [NAME...] [--quick]``: run benchmarks, print a table, write JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from bench.measure import BenchError, Measurement, Settings
from bench.registry import BENCHMARKS
from bench.report import print_table, write_json

DATA = Path(__file__).resolve().parent / ".data"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    settings = Settings(quick=args.quick, data_dir=DATA)
    console = Console(stderr=True)
    results: dict[str, list[Measurement]] = {}
    errors: dict[str, str] = {}
    for name in args.names or list(BENCHMARKS):
        console.print(f"[bold]running {name}[/]{' (quick)' if args.quick else ''} …")
        try:
            results[name] = BENCHMARKS[name](settings)
        except BenchError as exc:
            errors[name] = str(exc)
            console.print(f"[red]{name} failed:[/] {exc}")
    print_table(results)
    path = write_json(results, errors, quick=args.quick)
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    console.print(f"results: {shown} (and latest.json)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
