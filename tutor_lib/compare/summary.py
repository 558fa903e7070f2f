"""The summary table of every technique (reference: algorithms.md §A16), filled with measurements.

:data:`A16_GROUPS` lists the techniques as the reference table does, with its asymptotic costs
(forward time, extra memory when training, decoding per token / cache) and the entries of the
method table that implement each one here (none for Reformer's LSH, which the course does not
build, and for checkpointing / reversible layers, which lesson 07 measures on whole blocks).
:func:`a16_rows` turns a :func:`measure_methods` result into one row per implementation: what
was measured at length n, how memory grew with n, what decoding costs, and (if given) how far the
method can retrieve on lesson 09's task.
"""

from __future__ import annotations

from collections.abc import Mapping

from tutor_lib._validate import check_int
from tutor_lib.compare.decode import decode_cost
from tutor_lib.compare.table import get_method
from tutor_lib.measure import loglog_slope

__all__ = ["A16_GROUPS", "a16_rows"]

# (technique, forward time, extra memory (train), decode per token / cache, our implementations)
A16_GROUPS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("dense", "O(n²d)", "O(h·n²) saved P", "O(t·d) / O(t) KV", ("SDPA", "dense (numpy)")),
    (
        "sliding window w",
        "O(n·w·d) (banded kernel)",
        "O(h·n·w)",
        "O(W·d) / rolling O(W)",
        ("window, banded", "window, block-sparse", "window, dense mask"),
    ),
    (
        "Sparse Transformer strided",
        "O(n√n·d)",
        "O(h·n√n)",
        "—",
        ("strided + local, block-sparse",),
    ),
    ("BigBird (w+g+r)", "O(n(w+g+r)d)", "O(h·n(w+g+r))", "—", ("BigBird, block-sparse",)),
    ("block-local chunks m", "O(n·m·d)", "O(h·n·m)", "—", ("chunked local (numpy)",)),
    (
        "Linear Transformer",
        "O(n·d'·d_v)",
        "O(n·d') (+ state)",
        "O(d'd_v) / constant",
        ("linear (elu+1)", "linear (elu+1) causal"),
    ),
    ("Performer", "O(n·m·d)", "O(nm+nd+md)", "O(md) / constant", ("Performer",)),
    ("Linformer", "O(n·k·d)", "O(h·n·k)", "not causal", ("Linformer",)),
    ("Reformer LSH", "O(n log n·d)", "O(n·chunk)", "awkward", ()),
    (
        "Rabe–Staats / FlashAttention",
        "O(n²d) (same FLOPs)",
        "O(n) (logsumexp)",
        "same as dense",
        ("chunked (numpy)", "flash_attention"),
    ),
    (
        "ring attention (P devices)",
        "O(n²d/P) per device",
        "O(n/P) per device",
        "—",
        ("ring (numpy)",),
    ),  # fmt: skip
    ("checkpointing / reversible", "+1 fwd", "÷√L / ÷L activations", "n/a", ()),
    ("int8 / KV quant", "~same", "×bits/16", "×bits/16 cache", ("KV 4-bit (numpy)",)),
    (
        "memory-compressed K/V (Liu 2018)",
        "O(n²d/s)",
        "O(h·n²/s)",
        "O(t/s) slots",
        ("memory-compressed (numpy)",),
    ),
)


def a16_rows(
    result: dict,
    *,
    n: int,
    retrieval: Mapping[str, float] | None = None,
    itemsize: int = 2,
) -> list[dict]:
    """One row per technique of :data:`A16_GROUPS` and implementation measured in ``result`` at
    length ``n`` (a technique with no implementation gets one row with ``method`` None).

    Row keys: ``technique, time_o, memory_o, decode_o`` (the reference's costs), ``method,
    lesson, exact, max_error, memory_bytes, memory_kind, memory_slope`` (log-log slope of memory
    over all measured lengths), ``flops, flops_done, median_s, ratio_vs_sdpa`` (None without a
    baseline), ``decode`` (:func:`~tutor_lib.compare.decode.decode_cost` at t = n, in
    ``itemsize`` bytes per value) and ``retrieval`` (``retrieval[method]`` if given, else None).
    """
    if not isinstance(result, dict) or "rows" not in result:
        raise TypeError("result must be the dict measure_methods returns")
    n = check_int(n, "n", minimum=1)
    retrieval = {} if retrieval is None else dict(retrieval)
    by_method: dict[str, dict[int, dict]] = {}
    for row in result["rows"]:
        by_method.setdefault(row["method"], {})[row["n"]] = row
    if not any(n in rows for rows in by_method.values()):
        raise ValueError(f"n must be a length measured in result, one of {result.get('ns')}")
    out = []
    for technique, time_o, memory_o, decode_o, names in A16_GROUPS:
        base = {"technique": technique, "time_o": time_o, "memory_o": memory_o}
        base["decode_o"] = decode_o
        measured = [name for name in names if n in by_method.get(name, {})]
        if not measured:
            out.append({**base, "method": None})
            continue
        for name in measured:
            rows = by_method[name]
            lengths = sorted(rows)
            row = rows[n]
            slope = None
            if len(lengths) > 1:
                slope = loglog_slope(lengths, [rows[x]["memory_bytes"] for x in lengths])
            d = result["d"]
            out.append(
                {
                    **base,
                    "method": name,
                    "lesson": row["lesson"],
                    "exact": row["exact"],
                    "max_error": row["max_error"],
                    "memory_bytes": row["memory_bytes"],
                    "memory_kind": row["memory_kind"],
                    "memory_slope": slope,
                    "flops": row["flops"],
                    "flops_done": row["flops_done"],
                    "median_s": row["median_s"],
                    "ratio_vs_sdpa": row["ratio_vs_sdpa"],
                    "decode": decode_cost(get_method(name), n, d, d, itemsize=itemsize),
                    "retrieval": retrieval.get(name),
                }
            )
    return out
