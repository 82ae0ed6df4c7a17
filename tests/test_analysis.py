"""The chapter analyses (tables, spreads, the names the chapters call) on synthetic histories
whose answers are known by construction."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import nbformat
import pytest
from synthetic_runs import run

import grok_lib.analysis as analysis
import grok_lib.presentation.sweep_plots as figures
from grok_lib.analysis import (
    formula_label,
    majority,
    markdown_table,
    n_generalised,
    phase_counts,
    phase_table,
    smallest_generalising_fraction,
    spread,
    spread_by,
    summary_row,
    summary_rows,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("mem, gen, phase", [
    (None, None, "confusion"), (100, None, "memorisation"), (100, 200, "comprehension"),
    (200, 900, "comprehension"), (100, 1000, "grokking"),  # validation 4.5x, 10.1x as late (`classify`)
])
def test_summary_row_phase_follows_the_stated_rule(mem, gen, phase):
    row = summary_row(run(mem, gen))
    assert row["phase"] == phase
    assert row["memorised_at"] == mem and row["generalised_at"] == gen
    assert row["delay"] == (None if mem is None or gen is None else gen - mem)


def test_majority_breaks_ties_towards_the_less_successful_phase():
    assert majority(["grokking", "grokking", "confusion"]) == "grokking"
    assert majority(["grokking", "memorisation"]) == "memorisation"
    assert majority(["comprehension", "grokking"]) == "grokking"
    with pytest.raises(ValueError):
        majority([])


def test_phase_table_collects_seeds_per_cell():
    runs = [run(100, None, weight_decay=0.0, train_frac=0.3, seed=s) for s in range(3)]
    runs += [run(100, 1000, weight_decay=1.0, train_frac=0.3, seed=s) for s in range(2)]
    runs += [run(100, None, weight_decay=1.0, train_frac=0.3, seed=2)]
    runs += [run(100, 150, weight_decay=1.0, train_frac=0.6, seed=0)]
    table = phase_table(summary_rows(runs))
    assert table.rows == [0.0, 1.0] and table.cols == [0.3, 0.6]
    assert table.majority(0.0, 0.3) == "memorisation"
    assert table.majority(1.0, 0.3) == "grokking"
    assert table.majority(1.0, 0.6) == "comprehension"
    assert table.majority(0.0, 0.6) is None
    assert table.counts()["grokking"] == 2
    assert table.agreement() == pytest.approx(6 / 7)
    fig = figures.phase_diagram(table)  # draws without error
    assert fig.axes


def test_spread_counts_runs_that_never_got_there():
    s = spread([300, None, 100, 200, math.nan])
    assert s.values == (100.0, 200.0, 300.0) and s.n == 5 and s.missing == 2
    assert s.median == 200 and s.min == 100 and s.max == 300
    assert "3 of 5" in s.text()
    assert "never" in spread([None]).text()
    assert math.isnan(spread([]).median)


def test_smallest_generalising_fraction_needs_every_larger_fraction_to_work():
    rows = summary_rows([
        run(100, None, op="add", train_frac=0.2), run(100, 400, op="add", train_frac=0.4),
        run(100, 300, op="add", train_frac=0.6),
        run(100, 400, op="sub", train_frac=0.2), run(100, None, op="sub", train_frac=0.4),
        run(100, 300, op="sub", train_frac=0.6),
        run(100, None, op="mul", train_frac=0.2), run(100, None, op="mul", train_frac=0.6),
    ])
    assert smallest_generalising_fraction(rows) == {"add": 0.4, "sub": 0.6, "mul": None}


def test_markdown_table():
    text = markdown_table(["a", "b"], [[1, None], [12345, "x"]])
    assert text.splitlines() == ["| a | b |", "| --- | --- |", "| 1 | — |", "| 12,345 | x |"]


def test_n_generalised_counts_rows_with_a_step():
    rows = summary_rows([run(100, 300), run(100, None), run(None, None), run(100, 900)])
    assert n_generalised(rows) == 2
    assert n_generalised([]) == 0


def test_phase_counts_lists_every_phase_per_group_in_order():
    rows = summary_rows([
        run(100, 150, op="add", merge="sum"), run(100, 1000, op="add", merge="sum"),
        run(100, 1000, op="add", merge="sum"), run(None, None, op="add", merge="concat"),
        run(100, None, op="sub", merge="sum"),
    ])
    counts = phase_counts(rows, "op", "merge")
    assert list(counts) == [("add", "sum"), ("add", "concat"), ("sub", "sum")]
    assert counts[("add", "sum")] == {"comprehension": 1, "grokking": 2, "memorisation": 0, "confusion": 0}
    assert list(counts[("add", "concat")].values()) == [0, 0, 0, 1]
    assert list(counts[("sub", "sum")]) == list(analysis.PHASES)


def test_spread_by_orders_groups_and_counts_the_missing():
    rows = summary_rows([
        run(100, 700, train_frac=0.6), run(100, None, train_frac=0.2), run(100, 300, train_frac=0.6),
        run(100, 500, train_frac=0.2), run(100, 500, train_frac=0.6),
    ])
    by_frac = spread_by(rows, "train_frac", "generalised_at")
    assert list(by_frac) == [0.2, 0.6]
    assert by_frac[0.2].values == (500.0,) and by_frac[0.2].missing == 1
    assert by_frac[0.6].median == 500 and (by_frac[0.6].min, by_frac[0.6].max) == (300, 700)
    assert spread_by(rows, "train_frac", "memorised_at")[0.2].values == (100.0, 100.0)


def test_formula_label_drops_the_modulus_only():
    assert formula_label("add") == "a + b"
    assert formula_label("xy_y2") == "a·b + b²"
    assert formula_label("s5_xy") == "x·y in S5"


def test_every_name_the_chapters_call_is_exported():
    """The chapters call `analysis.<name>`: each such name must be in `analysis.__all__`."""
    called = set()
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                called |= set(re.findall(r"\banalysis\.(\w+)", cell.source))
    assert {"summary_rows", "where", "rise_then_fall", "pair_up"} <= called
    modules = {name for name in called if importlib.util.find_spec(f"grok_lib.analysis.{name}") is not None}
    called -= modules  # `analysis.phases.classify`: a sub-module, reached through its own name
    assert called <= set(analysis.__all__), sorted(called - set(analysis.__all__))
    assert all(hasattr(analysis, name) for name in analysis.__all__)
