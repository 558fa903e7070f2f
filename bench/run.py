"""Run the benchmarks and print their tables (``make bench``). Never part of ``make test``.

Usage: python bench/run.py [NAME ...] [--list] [--all] [--quick] [--threads N] [--results PATH]

Every ``bench/bench_*.py`` module registers its benchmarks in ``registry.BENCHMARKS``. With no NAME
the default set runs (the side-by-side comparison of every attention method and the benchmarks
of things it does not time); ``--all`` adds the per-lesson detail tables, a NAME runs just that.
The header names the machine (CPU model, cores, torch threads, load) and its measured fp32 matmul
rate, the ceiling every kernel is compared with. A full run of the default set also writes
everything to ``bench/results.md`` (``--results PATH`` elsewhere, ``--results ''`` nowhere).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from registry import BENCHMARKS, OPTIONS, Table  # noqa: E402

RESULTS = HERE / "results.md"


def load_all() -> None:
    for path in sorted(HERE.glob("bench_*.py")):
        importlib.import_module(path.stem)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts() -> dict:
    import torch

    from tutor_lib.measure import matmul_rate

    threads = torch.get_num_threads()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(1)
    one = matmul_rate(1024, timer=time.thread_time)
    torch.set_num_threads(threads)
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable": usable,
        "threads": threads,
        "torch": torch.__version__,
        "capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "load": os.getloadavg()[0],
        "rate_all": matmul_rate(1024),
        "rate_one": one,
    }


def header(facts: dict) -> list[str]:
    return [
        f"machine: {facts['cpu']}, {facts['cores']} cores ({facts['usable']} usable), "
        f"{platform.machine()}, CPU capability {facts['capability']}",
        f"torch {facts['torch']} using {facts['threads']} threads, Python {facts['python']}; "
        f"{facts['date']}; load average {facts['load']:.1f} at the start",
        f"fp32 matmul rate (1024² @ 1024²): {facts['rate_all'] / 1e9:.0f} GFLOP/s on "
        f"{facts['threads']} threads (wall clock), {facts['rate_one'] / 1e9:.0f} GFLOP/s on one "
        "thread (its CPU time): the physical ceiling of a kernel made of matmuls",
    ]


def write_results(path: Path, facts: dict, sections: list, seconds: float, argv: list) -> None:
    load_end = os.getloadavg()[0]
    busy = max(facts["load"], load_end) > 0.5 * facts["cores"]
    lines = [
        "# Benchmark results on this machine",
        "",
        f"Written by `make bench` (`{' '.join(['python bench/run.py', *argv])}`) in "
        f"{seconds / 60:.1f} min. Re-run it to measure your own machine.",
        "",
        *[f"- {line}" for line in header(facts)],
    ]
    if busy:
        lines.append(
            f"- **Numbers from a shared machine**: the load average was {facts['load']:.1f} at "
            f"the start and {load_end:.1f} at the end on {facts['cores']} cores: other programs "
            "competed for the CPU. The comparison table times one thread's CPU time, which such "
            "competition disturbs least; wall-clock figures elsewhere are pessimistic"
        )
    for name, description, tables, took in sections:
        lines += ["", f"## {name}: {description}", ""]
        for table in tables:
            lines += [table.markdown(), ""]
        lines.append(f"({name} took {took:.0f} s)")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: the default set)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--all", action="store_true", help="also the per-lesson detail tables")
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the plumbing")
    parser.add_argument("--threads", type=int, help="torch threads (default: each bench's choice)")
    parser.add_argument("--results", help="write a Markdown copy here ('' for none)")
    args = parser.parse_args(argv)
    # numpy's BLAS must not run threads the one-thread CPU-time clock cannot see: set before
    # numpy is first imported (by the benchmark modules)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads or 1))
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    OPTIONS["threads"] = args.threads
    load_all()
    if args.list:
        for bench in BENCHMARKS.values():
            where = "" if bench.default else "  (not in the default set: run by name or --all)"
            print(f"{bench.name:16s} {bench.description}{where}")
        return 0
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {sorted(BENCHMARKS)}")
    names = args.names or [b.name for b in BENCHMARKS.values() if b.default or args.all]
    start = time.perf_counter()
    facts = machine_facts()
    print("\n".join(header(facts)), flush=True)
    sections = []
    for i, name in enumerate(names):
        bench = BENCHMARKS[name]
        print(f"\n=== [{i + 1}/{len(names)}] {bench.name}: {bench.description}", flush=True)
        began = time.perf_counter()
        result = bench.fn(args.quick)
        tables = [result] if isinstance(result, Table) else list(result)
        took = time.perf_counter() - began
        for table in tables:
            print(table.render() + "\n")
        print(f"({bench.name} took {took:.0f} s)", flush=True)
        sections.append((bench.name, bench.description, tables, took))
    total = time.perf_counter() - start
    print(f"\nall benchmarks took {total / 60:.1f} min ({total:.0f} s)")
    path = args.results
    if path is None and not args.names and not args.quick:
        path = str(RESULTS)
    if path:
        write_results(Path(path), facts, sections, total, argv)
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
