"""``python -m tutor_lib.distributed --world-size 4 --n 4096``: ring attention over real processes,
checked against dense attention; prints the max abs error and each rank's peak K/V bytes."""

from __future__ import annotations

import argparse
import sys

from tutor_lib.distributed.launch import WorkerError, format_report, launch


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tutor_lib.distributed", description=__doc__)
    p.add_argument("--world-size", type=int, default=4, help="number of processes (default 4)")
    p.add_argument("--n", type=int, default=4096, help="sequence length (default 4096)")
    p.add_argument("--d", type=int, default=64, help="head dimension (default 64)")
    p.add_argument("--causal", action="store_true", help="causal (decoder) attention")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before all are killed")
    p.add_argument("--fail-rank", type=int, default=None, help="make this rank fail (testing)")
    p.add_argument("--fail-how", choices=("raise", "hang"), default="raise")
    args = p.parse_args(argv)
    try:
        result = launch(
            args.world_size,
            args.n,
            d=args.d,
            causal=args.causal,
            dtype=args.dtype,
            seed=args.seed,
            timeout=args.timeout,
            fail_rank=args.fail_rank,
            fail_how=args.fail_how,
        )
    except (WorkerError, TimeoutError, ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
