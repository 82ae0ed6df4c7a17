"""The exercises: student notebooks in step with their solutions, and checks that catch mistakes.

The solution notebooks in exercises/solutions/ are the source; exercises/make_student.py
derives the student notebooks from them. These tests make sure the two never drift, that
the learner's parts really were removed, that every notebook follows the course's
conventions, and that the checks in grok_lib.checks accept right answers and reject
typical wrong ones with a message that points at the mistake.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from pathlib import Path

import nbformat
import pytest
import torch

import grok_lib.task.operations as ops
from grok_lib.exercises import checks
from grok_lib.task import data

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"

_spec = importlib.util.spec_from_file_location("make_student", EXERCISES / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)

PAIRS = make_student.targets()
CHECK_FOR = {
    "square_sum_table": checks.check_square_sum_table,
    "mod_inverse": checks.check_mod_inverse,
    "division_table": checks.check_division_table,
    "split_indices": checks.check_split,
    "noisy_labels": checks.check_label_noise,
}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _pair_id(pair: tuple[Path, Path]) -> str:
    return pair[0].stem


# --------------------------------------------------------------------------- student vs solution


def test_there_are_exercises():
    assert {"01_tables.ipynb", "02_split.ipynb"} <= {s.name for s, _ in PAIRS}


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_student_notebook_is_up_to_date(pair):
    solution, student = pair
    assert student.exists(), f"{student.name} is missing; run `python exercises/make_student.py`"
    assert student.read_text(encoding="utf-8") == make_student.render(solution, student), (
        f"{student.name} differs from what its solution generates; run `python exercises/make_student.py`")


def test_check_mode_reports_up_to_date(capsys):
    assert make_student.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_solution_regions_are_stripped(pair):
    solution, student = _read(pair[0]), _read(pair[1])
    assert len(solution.cells) == len(student.cells)
    regions_seen = 0
    for sol, stu in zip(solution.cells, student.cells, strict=True):
        assert sol.cell_type == stu.cell_type
        assert make_student.BEGIN not in stu.source and make_student.END not in stu.source
        if sol.cell_type != "code":
            continue
        regions = sol.source.count(make_student.BEGIN)
        assert sol.source.count(make_student.END) == regions
        regions_seen += regions
        assert stu.source.count("raise NotImplementedError") == regions + sol.source.count("raise NotImplementedError")
        if regions:
            assert stu.outputs == [] and stu.execution_count is None
            # no line the learner is meant to write survives in the student cell
            body = re.findall(r"# BEGIN SOLUTION\n(.*?)\n\s*# END SOLUTION", sol.source, flags=re.S)
            for line in "\n".join(body).splitlines():
                if len(line.strip()) > 12:
                    assert line not in stu.source.splitlines(), f"solution line left in student notebook: {line!r}"
        if regions_seen:
            assert stu.outputs == [], "cells after the first exercise must not show the solution's outputs"
    assert regions_seen >= 2


def test_strip_source_keeps_indentation_and_everything_else():
    source = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    # BEGIN SOLUTION\n    y = x + 1\n    return y\n    # END SOLUTION\n"
              "\n\n# BEGIN SOLUTION\nz = 3\n# END SOLUTION\nprint(f(2))")
    stripped, regions = make_student.strip_source(source)
    assert regions == 2
    assert stripped == ("def f(x):\n    \"\"\"Doc.\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
                        "\n\n# YOUR CODE HERE\nraise NotImplementedError\nprint(f(2))")
    assert make_student.strip_source("x = 1\ny = 2") == ("x = 1\ny = 2", 0)


@pytest.mark.parametrize("source", [
    "# BEGIN SOLUTION\nx = 1",
    "x = 1\n# END SOLUTION",
    "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n# END SOLUTION",
])
def test_strip_source_rejects_unbalanced_markers(source):
    with pytest.raises(make_student.MarkerError):
        make_student.strip_source(source)


def test_check_mode_fails_on_a_stale_student_notebook(tmp_path, monkeypatch, capsys):
    (tmp_path / "solutions").mkdir()
    solution = PAIRS[0][0]
    copy = tmp_path / "solutions" / solution.name
    copy.write_text(solution.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(make_student, "HERE", tmp_path)
    monkeypatch.setattr(make_student, "SOLUTIONS", tmp_path / "solutions")
    assert make_student.main(["--check"]) == 1  # student notebook missing
    assert make_student.main([]) == 0
    assert make_student.main(["--check"]) == 0
    nb = _read(copy)
    nb.cells[0].source += "\n\nA new sentence."
    nbformat.write(nb, copy)
    assert make_student.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err


# --------------------------------------------------------------------------- conventions


# badge, set-up cell and machine-path rules for every notebook: tests/test_notebooks.py


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_every_exercise_has_a_check_cell(pair):
    student = _read(pair[1])
    sources = [c.source for c in student.cells if c.cell_type == "code"]
    for i, source in enumerate(sources):
        if "raise NotImplementedError" in source:
            name = re.search(r"def (\w+)\(", source).group(1)
            assert sources[i + 1] == f"checks.{CHECK_FOR[name].__name__}({name})"


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_solution_functions_pass_their_checks(pair, capsys):
    """The worked solutions, run here without a kernel (nbval runs the whole notebooks)."""
    namespace: dict = {"torch": torch}
    names = []
    for cell in _read(pair[0]).cells:
        if cell.cell_type == "code" and make_student.BEGIN in cell.source:
            exec(cell.source, namespace)
            names += re.findall(r"^def (\w+)\(", cell.source, flags=re.M)
    assert names
    for name in names:
        CHECK_FOR[name](namespace[name])
        assert capsys.readouterr().out.startswith("✓")


# --------------------------------------------------------------------------- the checks themselves


def _table(p, f):
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    return a, b, f(a, b)


def _div_reference(p):
    return ops.operation_table("div", p)


def _naive_inverse(b, p):
    return b ** (p - 2) % p


def _fermat_off_by_one(b, p):
    return ops.mod_inverse(b, p + 1) % p


def _inverse_as_list(b, p):
    return [pow(int(x), p - 2, p) for x in b.flatten()]


def _div_loop_with_zero(p):
    rows = [(a, b, a * pow(b, p - 2, p) % p) for a in range(p) for b in range(p)]
    return tuple(torch.tensor(col) for col in zip(*rows, strict=True))


def _div_no_prime_check(p):
    a, b, _ = ops.operation_table("mul", p)
    keep = b != 0
    a, b = a[keep], b[keep]
    return a, b, a * ops.mod_inverse(b, p) % p


def _div_wrong_error(p):
    if not ops.is_prime(p):
        raise ZeroDivisionError("no inverse")
    return _div_reference(p)


def _div_vague_error(p):
    if not ops.is_prime(p):
        raise ValueError("bad p")
    return _div_reference(p)


def _div_as_mul(p):
    a, b, _ = _div_reference(p)
    return a, b, a * b % p


def _split_global_rng(n, frac, seed):
    torch.manual_seed(seed)
    n_train = min(max(round(frac * n), 1), n - 1)
    perm = torch.randperm(n)
    return perm[:n_train].sort().values, perm[n_train:].sort().values


_calls = itertools.count()


def _split_unseeded(n, frac, seed):
    """Seeded, but by something that changes from call to call (like the time of day)."""
    gen = torch.Generator().manual_seed(seed + 1000 * next(_calls))
    n_train = min(max(round(frac * n), 1), n - 1)
    perm = torch.randperm(n, generator=gen)
    return perm[:n_train].sort().values, perm[n_train:].sort().values


def _split_variant(floor=False, clamp=True, sort=True, tail=False, check_frac=True):
    def split(n, frac, seed):
        if check_frac and not 0 < frac < 1:
            raise ValueError("train_frac must lie in (0, 1)")
        n_train = int(frac * n) if floor else round(frac * n)
        if clamp:
            n_train = min(max(n_train, 1), n - 1)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        train, val = (perm[n - n_train:], perm[: n - n_train]) if tail else (perm[:n_train], perm[n_train:])
        return (train.sort().values, val.sort().values) if sort else (train, val)
    return split


def _noise_variant(shift_one=False, inplace=False, independent=False, first_k=False, may_repeat=False):
    def noisy(labels, n_classes, fraction, seed):
        out = labels if inplace else labels.clone()
        gen = torch.Generator().manual_seed(seed)
        k = round(fraction * len(labels))
        if independent:
            which = (torch.rand(len(labels), generator=gen) < fraction).nonzero().flatten()
        elif first_k:
            which = torch.arange(k)
        else:
            which = torch.randperm(len(labels), generator=gen)[:k]
        if may_repeat:
            out[which] = torch.randint(0, n_classes, (len(which),), generator=gen)
            return out
        shift = torch.ones(len(which), dtype=torch.long) if shift_one else torch.randint(
            1, n_classes, (len(which),), generator=gen)
        out[which] = (labels[which] + shift) % n_classes
        return out
    return noisy


def test_checks_accept_the_library(capsys):
    checks.check_square_sum_table(lambda p: ops.operation_table("x2_y2", p))
    checks.check_mod_inverse(ops.mod_inverse)
    checks.check_division_table(_div_reference)
    checks.check_split(data.split_indices)
    checks.check_label_noise(data.noisy_labels)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and all(line.startswith("✓") for line in out)
    assert "division table matches for p in [2, 3, 5, 7, 11, 97]" in out[2]


def test_noise_check_accepts_a_different_but_valid_generator(capsys):
    checks.check_label_noise(_noise_variant())
    out = capsys.readouterr().out
    assert out.startswith("✓") and "draw for draw" not in out


WRONG = [
    ("square sum, off by one", checks.check_square_sum_table,
     lambda p: _table(p, lambda a, b: (a * a + b * b + 1) % p), "first wrong cell"),
    ("square sum, not reduced", checks.check_square_sum_table,
     lambda p: _table(p, lambda a, b: a * a + b * b), "reduce them mod p"),
    ("square sum, column-major", checks.check_square_sum_table,
     lambda p: (torch.arange(p).repeat(p), torch.arange(p).repeat_interleave(p),
                (torch.arange(p).repeat(p) ** 2 + torch.arange(p).repeat_interleave(p) ** 2) % p), "order"),
    ("square sum, floats", checks.check_square_sum_table,
     lambda p: _table(p, lambda a, b: ((a * a + b * b) % p).float()), "dtype"),
    ("square sum, a 2-D table", checks.check_square_sum_table,
     lambda p: tuple(t.reshape(p, p) for t in _table(p, lambda a, b: (a * a + b * b) % p)), "one-dimensional"),
    ("inverse, power overflows", checks.check_mod_inverse, _naive_inverse, "overflowed int64"),
    ("inverse, Fermat exponent off by one", checks.check_mod_inverse, _fermat_off_by_one, "should satisfy"),
    ("inverse, a Python list", checks.check_mod_inverse, _inverse_as_list, "torch.Tensor"),
    ("division, loop keeping b = 0", checks.check_division_table, _div_loop_with_zero, "b = 0"),
    ("division, multiplication instead", checks.check_division_table, _div_as_mul, "first wrong cell"),
    ("division, no prime check", checks.check_division_table, _div_no_prime_check, "is not prime"),
    ("division, wrong exception", checks.check_division_table, _div_wrong_error, "raise a ValueError"),
    ("division, vague message", checks.check_division_table, _div_vague_error, "make the message useful"),
    ("split, global random state", checks.check_split, _split_global_rng, "global random state"),
    ("split, not deterministic", checks.check_split, _split_unseeded, "different split"),
    ("split, int() instead of round()", checks.check_split, _split_variant(floor=True), "round(train_frac·n)"),
    ("split, empty training set", checks.check_split, _split_variant(clamp=False), "at least 1"),
    ("split, unsorted", checks.check_split, _split_variant(sort=False), "sorted"),
    ("split, other end of the permutation", checks.check_split, _split_variant(tail=True), "not the course's"),
    ("split, accepts train_frac = 0", checks.check_split, _split_variant(check_frac=False), "ValueError"),
    ("noise, always the next class", checks.check_label_noise, _noise_variant(shift_one=True), "wrong classes"),
    ("noise, edits its input", checks.check_label_noise, _noise_variant(inplace=True), "clone"),
    ("noise, independent draws", checks.check_label_noise, _noise_variant(independent=True), "exactly"),
    ("noise, may keep the true class", checks.check_label_noise, _noise_variant(may_repeat=True), "exactly"),
    ("noise, the first k labels", checks.check_label_noise, _noise_variant(first_k=True), "at random"),
]


@pytest.mark.parametrize(("check", "fn", "message"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_checks_reject_wrong_implementations(check, fn, message, capsys):
    with pytest.raises(AssertionError) as err:
        check(fn)
    assert message in str(err.value), str(err.value)
    assert "✓" not in capsys.readouterr().out


def test_messages_name_the_first_wrong_cell():
    with pytest.raises(AssertionError, match=r"square_sum_table\(2\): first wrong cell .* a=0, b=0: "
                       r"expected 0² \+ 0² ≡ 0 \(mod 2\), got 1"):
        def square_sum_table(p):
            return _table(p, lambda a, b: (a * a + b * b + 1) % p)
        checks.check_square_sum_table(square_sum_table)


def test_messages_use_a_readable_name_for_lambdas():
    with pytest.raises(AssertionError, match=r"^your function\(2\)"):
        checks.check_square_sum_table(lambda p: _table(p, lambda a, b: a + b))
