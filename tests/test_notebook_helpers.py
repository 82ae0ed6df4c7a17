"""The chapters' helpers: the numbers `say` writes into the text, the runs table, parameter counts."""

from __future__ import annotations

import pytest

from grok_lib.presentation import notebook
from grok_lib.training.build import count_parameters
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run


def _run(p: int = 7, model: str = "mlp", wall: float = 3.25) -> Run:
    """A small made-up run: memorised at step 10, generalised at step 30."""
    history = {"step": [0, 10, 20, 30], "train_acc": [0.1, 1.0, 1.0, 1.0], "val_acc": [0.0, 0.2, 0.5, 1.0],
               "weight_norm": [5.0, 7.5, 6.0, 4.0]}
    meta = {"wall_time_s": wall, "device": "cpu: test", "threads": 2}
    return Run(TrainConfig(p=p, train_frac=0.5, model=model, lr=2e-3, weight_decay=0.5, seed=4, data_seed=1),
               history, meta)


def test_run_milestones_reads_the_history_at_the_right_steps():
    m = notebook.run_milestones(_run())
    assert (m["mem"], m["gen"], m["delay"], m["last"]) == (10, 30, 20, 30)
    assert m["ratio"] == pytest.approx(3.0)
    assert m["val_at_mem"] == pytest.approx(20.0)  # validation accuracy when training hit 99%, in percent
    assert (m["norm_start"], m["norm_mem"], m["norm_end"], m["norm_max"]) == (5.0, 7.5, 4.0, 7.5)
    assert (m["p"], m["frac"], m["lr"], m["wd"], m["wall"]) == (7, 50.0, 2e-3, 0.5, 3.25)
    assert m["n_train"] == 24  # half of the 49 cells of a 7 x 7 table, rounded down


def test_count_parameters_by_hand():
    mlp = TrainConfig(p=7, d_embed=4, d_hidden=5)
    assert count_parameters(mlp) == 7 * 4 + (4 * 5 + 5) + (5 * 7 + 7)
    assert count_parameters(mlp.replace(merge="concat")) == 7 * 4 + (8 * 5 + 5) + (5 * 7 + 7)
    d, f, v = 8, 16, 7 + 2  # the transformer's vocabulary adds the op and = tokens
    tf = TrainConfig(p=7, model="transformer", d_model=d, n_heads=2, d_mlp=f)
    block = 4 * d * d + (d * f + f) + (f * d + d)
    embed_unembed = v * d + 4 * d + d * 7  # W_E, W_pos, W_U
    assert count_parameters(tf) == embed_unembed + block
    layernorms = 2 * 2 * (2 * d) + 2 * d  # gain and bias: ln1 and ln2 in each of 2 blocks, and ln_final
    assert count_parameters(tf.replace(n_layers=2, layernorm=True)) == embed_unembed + 2 * block + layernorms


def test_runs_table_has_one_column_per_run():
    runs = {"first": _run(), "second": _run(p=5, model="transformer", wall=12.6)}
    lines = notebook.runs_table(runs).splitlines()
    assert lines[0] == "| | first | second |"
    assert lines[1] == "| --- | ---: | ---: |"
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    rows = {row[0]: row[1:] for row in cells}
    assert rows["task"] == ["add mod 7, 50% shown", "add mod 5, 50% shown"]
    assert rows["parameters"] == [f"{count_parameters(r.config):,}" for r in runs.values()]
    assert rows["memorised at step"] == ["10", "10"] and rows["generalised at step"] == ["30", "30"]
    assert rows["generalised / memorised"] == ["3.0×", "3.0×"]
    assert rows["wall time"] == ["3 s", "13 s"]
    assert rows["device (threads)"] == ["cpu: test (2)", "cpu: test (2)"]


def test_say_fills_in_the_numbers():
    from grok_lib.presentation.notebook import say

    out = say("Memorised at step {mem:,}, {acc:.1f}% right.", mem=12345, acc=29.83, unused=1)
    assert out.data == "Memorised at step 12,345, 29.8% right."
    with pytest.raises(KeyError):
        say("{missing}")
