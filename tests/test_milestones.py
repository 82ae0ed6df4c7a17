"""The Markdown table of stored runs that a chapter quotes: one row per run, in order, every number in its place."""

from __future__ import annotations

from grok_lib.presentation.notebook import MILESTONE_HEADER as HEADER
from grok_lib.presentation.notebook import milestones_table
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

GROKS = {"step": [0, 50, 700, 900], "train_acc": [0.0, 1.0, 1.0, 1.0], "val_acc": [0.01, 0.2, 0.99, 1.0],
         "train_loss": [4.0, 0.1, 0.01, 0.01], "val_loss": [4.0, 3.0, 0.1, 0.05], "weight_norm": [9.0] * 4}
STUCK = GROKS | {"step": [0, 50, 1000, 2500], "train_acc": [0.0, 0.4, 0.55, 0.606], "val_acc": [0.0, 0.05, 0.1, 0.104]}


def _cells(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()]


def test_one_row_per_run_in_order():
    runs = [Run(TrainConfig(p=31, train_frac=0.6, weight_decay=1.0), GROKS),
            Run(TrainConfig(op="sub", p=31, train_frac=0.8, weight_decay=0.0, merge="concat"), STUCK),
            Run(TrainConfig(op="add", model="transformer", train_frac=0.25, weight_decay=0.3), GROKS)]
    header, rule, *rows = _cells(milestones_table(runs))
    assert header == list(HEADER) and len(rule) == len(HEADER) and len(rows) == 3
    assert rows[0] == ["a + b (mod p)", "sum MLP", "60%", "1", "50", "700", "100%", "100%", "900"]
    assert rows[1] == ["a − b (mod p)", "concat MLP", "80%", "0", "never", "never", "61%", "10%", "2,500"]
    assert rows[2][:4] == ["a + b (mod p)", "transformer", "25%", "0.3"]


def test_a_formula_with_a_bar_does_not_split_its_cell():
    table = milestones_table([Run(TrainConfig(op="sin", p=31), GROKS)])
    row = table.splitlines()[2]
    assert "\\|sin" in row and len(_cells(table.replace("\\|", "/"))[2]) == len(HEADER)
