"""Exercise 5's checks (the symmetric ceiling and the transpose freebie) accept right answers and reject the
typical wrong ones with a message that names the mistake (the notebook: exercises/solutions/05_symmetric_ceiling.ipynb).
"""

from __future__ import annotations

import pytest
import torch
from check_slips import assert_names_the_slip

from grok_lib.analysis.counts import symmetric_ceiling
from grok_lib.exercises import symmetry


def majority_ceiling(a, b, c, cell_value=1.0, lone_mirror_right=True, diagonal_right=True, scale=1.0):
    """The ceiling by majority vote per unordered pair; the keyword arguments plant the typical slips."""
    groups: dict[tuple[int, int], list[int]] = {}
    for x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), strict=True):
        groups.setdefault((min(x, y), max(x, y)), []).append(z)
    right = 0.0
    for (x, y), answers in groups.items():
        best = max(answers.count(z) for z in answers)
        if len(answers) == 2 and best == 1:
            right += cell_value  # one of two disagreeing cells
        elif len(answers) == 1 and x != y and not lone_mirror_right:
            continue
        elif x == y and not diagonal_right:
            continue
        else:
            right += best
    return scale * right / len(c)


def freebie(a, b, c, train_idx, val_idx, compare=True, among=None, per="val", scale=1.0):
    """The transpose freebie; the keyword arguments plant the typical slips."""
    a, b, c = a.tolist(), b.tolist(), c.tolist()
    pool = train_idx.tolist() if among is None else list(range(len(c)))
    known = {(a[i], b[i]): c[i] for i in pool}
    free = sum(1 for i in val_idx.tolist() if (b[i], a[i]) in known and (not compare or known[(b[i], a[i])] == c[i]))
    return scale * free / (len(val_idx) if per == "val" else len(train_idx))


def test_checks_accept_right_answers(capsys):
    symmetry.check_symmetric_ceiling(majority_ceiling)
    symmetry.check_symmetric_ceiling(lambda a, b, c: torch.tensor(majority_ceiling(a, b, c)))  # a 0-d tensor is fine
    symmetry.check_transpose_freebie(freebie)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and all(line.startswith("✓") for line in out)


def test_the_cases_hold_what_the_hints_assume():
    """The edge cases come first and give the values the hints are written for."""
    values = [symmetric_ceiling(op, p, symmetry._cells(op, p, which)[0]) for op, p, which in symmetry.EDGE_CASES]
    assert values == [1.0, 1.0, 0.5, 1.0, pytest.approx(2 / 3)]
    # the sub case of the freebie check has no free cell, the symmetric split none either, the add case some
    cases = {(op, split): symmetry.TrainConfig(op=op, p=p, train_frac=f, seed=s, split=split)
             for op, p, f, s, split in symmetry.FREEBIE_CASES[:3]}
    assert symmetry._ref_freebie(cases["sub", "ordered"]) == 0 == symmetry._ref_freebie(cases["add", "symmetric"])
    assert symmetry._ref_freebie(cases["add", "ordered"]) > 0.3


def _mutating(a, b, c):
    c[0] = (c[0] + 1) % 5
    return majority_ceiling(a, b, c)


CEILING_SLIPS = [
    ("a percentage", lambda a, b, c: majority_ceiling(a, b, c, scale=100.0), "percentage"),
    ("both cells of a disagreeing pair counted wrong", lambda a, b, c: majority_ceiling(a, b, c, cell_value=0.0),
     "one of the two right"),
    ("a cell whose mirror is absent counted wrong", lambda a, b, c: majority_ceiling(a, b, c, lone_mirror_right=False),
     "is not among the cells"),
    ("both cells of a disagreeing pair counted right", lambda a, b, c: majority_ceiling(a, b, c, cell_value=2.0),
     "more than any symmetric function"),
    ("the diagonal left out", lambda a, b, c: majority_ceiling(a, b, c, diagonal_right=False),
     "A cell (a, a) is its own mirror"),
    ("edits its input", _mutating, "changed the tensors"),
    ("one value per cell", lambda a, b, c: torch.ones(len(c)), "one number"),
    ("a string", lambda a, b, c: "50%", "a number"),
]


@pytest.mark.parametrize(("fn", "message"), [s[1:] for s in CEILING_SLIPS], ids=[s[0] for s in CEILING_SLIPS])
def test_ceiling_check_names_the_slip(fn, message, capsys):
    assert_names_the_slip(symmetry.check_symmetric_ceiling, fn, message, capsys)


FREEBIE_SLIPS = [
    ("divided by the training cells", lambda *args: freebie(*args, per="train"), "not of training cells"),
    ("answers not compared", lambda *args: freebie(*args, compare=False), "compare the mirror's answer"),
    ("mirror looked up among all cells", lambda *args: freebie(*args, among="all"), "must be a training cell"),
    ("a percentage", lambda *args: freebie(*args, scale=100.0), "percentage"),
]


@pytest.mark.parametrize(("fn", "message"), [s[1:] for s in FREEBIE_SLIPS], ids=[s[0] for s in FREEBIE_SLIPS])
def test_freebie_check_names_the_slip(fn, message, capsys):
    assert_names_the_slip(symmetry.check_transpose_freebie, fn, message, capsys)

