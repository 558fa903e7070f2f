"""Run the speed benchmarks and print their tables (``make bench``). Never part of ``make test``.

Usage: python bench/run.py [NAME ...] [--list] [--quick] [--threads N]

Every ``bench/bench_*.py`` module registers its benchmarks in ``registry.BENCHMARKS``; with no NAME
all of them run, in file order. Timings depend on the machine and on what else runs on it: the
header prints the core count and torch's thread count so a table can be read in context.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from registry import BENCHMARKS  # noqa: E402


def load_all() -> None:
    for path in sorted(HERE.glob("bench_*.py")):
        importlib.import_module(path.stem)


def machine() -> str:
    import torch

    return (
        f"machine: {os.cpu_count()} cores (nproc), torch {torch.__version__} using "
        f"{torch.get_num_threads()} threads, CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}, {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the plumbing")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    load_all()
    if args.list:
        for bench in BENCHMARKS.values():
            print(f"{bench.name:20s} {bench.description}")
        return 0
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {sorted(BENCHMARKS)}")
    print(machine(), flush=True)
    for name in args.names or list(BENCHMARKS):
        bench = BENCHMARKS[name]
        print(f"\n=== {bench.name}: {bench.description}", flush=True)
        start = time.perf_counter()
        table = bench.fn(args.quick)
        print(table.render())
        print(f"({bench.name} took {time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
