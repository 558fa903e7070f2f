"""The plumbing of ``make bench`` (not its numbers, which are machine-dependent): the Markdown form
of a table, the terminal progress bar, the default set of benchmarks."""

from __future__ import annotations

import io
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from progress import ProgressBar  # noqa: E402
from registry import Table  # noqa: E402


def test_a_table_renders_as_markdown_with_escaped_pipes_and_its_notes():
    table = Table("title", ["method", "ms"], [["a|b", 1.5], ["c", 12345.0]], ["a note"])
    lines = table.markdown().splitlines()
    assert lines[0] == "**title**"
    assert lines[2:6] == ["| method | ms |", "|---|---:|", "| a\\|b | 1.5 |", "| c | 12,345 |"]
    assert lines[-1] == "- a note"


class _Item:
    def __init__(self, cost: float, label: str):
        self.cost, self.label = cost, label

    def __str__(self) -> str:
        return self.label


def test_the_bar_moves_by_cost_and_writes_one_line_per_tenth_to_a_log():
    stream = io.StringIO()  # not a terminal
    items = [_Item(1, "cheap")] + [_Item(9, f"dear {i}") for i in range(9)]  # 82 in all
    assert list(ProgressBar(items, "t", stream=stream, width=10)) == items
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("t [----------]   0%  cheap")
    assert "  1%" not in stream.getvalue()  # the first step is 1/82 of the work: no new line
    assert lines[1].startswith("t [#---------]  12%  dear 1")  # after 1 + 9 of 82
    assert lines[-1].startswith("t [##########] 100%  done")
    assert len(lines) == 10  # 0 %, then once per tenth reached (82 skips the 9th), done


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_terminal_the_bar_redraws_one_line():
    stream = _Terminal()
    list(ProgressBar([_Item(1, "a"), _Item(1, "b")], "t", stream=stream))
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "100%" in text.split("\r")[-1]


def test_the_default_set_is_the_comparison_plus_what_it_does_not_time(capsys):
    import run

    assert run.main(["--list"]) == 0
    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "not in the default set" not in listed["compare"]
    for detail in ("flash", "sliding_window", "linear"):  # timed by the comparison already
        assert "not in the default set" in listed[detail]
    for other in ("quant", "training_memory", "decode_roofline"):
        assert "not in the default set" not in listed[other]


def _row(method, n, median, **extra):
    return {"method": method, "n": n, "median_s": median, "ratio_vs_sdpa": None, **extra}


def test_targets_pass_or_say_why_they_are_short(monkeypatch):
    """The verdict logic on made-up measurements: a met target says pass and nothing more, a
    short one gets the profile of where its time goes (faked here: no kernel runs)."""
    import bench_compare as bc

    profiled = []

    def fake_profiled(name, n):
        profiled.append((name, n))
        return {"bmm": 0.06, "exp2": 0.02}, 0.1  # 80 ms in operators of a 100 ms call

    monkeypatch.setattr(bc, "_profiled", fake_profiled)
    big, ns = bc.BAND_N, [bc.BAND_N // 4, bc.BAND_N]
    rows = [
        _row(bc.TILED, bc.TILED_N, 2.0, ratio_vs_sdpa=2.0),  # 2× SDPA: short
        _row(bc.DENSE_WINDOW, big, 4.0),
        *[_row(bc.BANDED, n, 0.1 * n / big, matmul_fraction=0.9) for n in ns],  # slope 1, fast
        _row(bc.CAUSAL_SDPA, big, 1.0),
        *[_row(bc.LINEAR, n, 0.5 * (n / big) ** 2) for n in ns],  # 2× faster only, slope 2
        _row(bc.CHUNKED, bc.MEMORY_N, 0.1, memory_bytes=bc.HEADS * bc.MEMORY_N**2 * 8 // 100),
    ]
    result = {"rows": rows, "ns": ns, "matmul_rate": {"float32": 1e11}}
    table = bc._targets_table(result, quick=False)
    verdicts = {row[0]: (row[3], row[4]) for row in table.rows}
    assert verdicts["tiled ≤ 1.5× SDPA's time"] == ("short", "bmm 75%, exp2 25%; Python 20%")
    assert [v[0] for v in verdicts.values()] == [
        "short",  # tiled 2×
        "pass",  # banded 40× faster than the dense mask
        "pass",  # banded slope 1.00
        "short",  # linear 2× faster
        "short",  # linear slope 2.00
        "pass",  # banded at 90 % of the matmul rate
        "pass",  # chunked peak 1 % of a score matrix per head
    ]
    assert all(why == "" for verdict, why in verdicts.values() if verdict == "pass")
    assert (bc.TILED, bc.TILED_N) in profiled and (bc.LINEAR, big) in profiled
    assert any("Python" in note for note in table.notes)  # the full profile, below the table


def test_a_target_not_measured_says_so():
    import bench_compare as bc

    table = bc._targets_table({"rows": [], "ns": [256], "matmul_rate": {}}, quick=True)
    assert {row[2] for row in table.rows} == {"not measured"}
    assert any("--quick" in note for note in table.notes)
