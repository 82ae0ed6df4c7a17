"""The exercises: student notebooks in step with their solutions, and checks that catch mistakes.

The solution notebooks in exercises/solutions/ are the source; exercises/make_student.py
derives the student notebooks from them. These tests make sure the two never drift, that
the learner's parts really were removed, that every notebook follows the course's
conventions (a check cell after each part, the solutions folded in the book, both notebooks
linked), that each student notebook, run as a learner first runs it, stops at its first
``NotImplementedError`` and nowhere else, and that the worked solutions pass their checks
(the checks themselves: tests/test_exercise_checks*.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import nbclient
import nbformat
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"

_spec = importlib.util.spec_from_file_location("make_student", EXERCISES / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)

PAIRS = make_student.targets()
CHECK_CELL = re.compile(r"(\w+)\.(check_\w+)\((\w+)\)")  # module.check_name(learners_name), alone in its cell
DEFINED = re.compile(r"^(?:def|class) (\w+)", flags=re.M)


def _check(source: str):
    """The check a check cell calls, and the name of the learner's function or class it is given."""
    module, check, name = CHECK_CELL.fullmatch(source.strip()).groups()
    return getattr(importlib.import_module(f"grok_lib.exercises.{module}"), check), name


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _pair_id(pair: tuple[Path, Path]) -> str:
    return pair[0].stem


# --------------------------------------------------------------------------- student vs solution


def test_there_are_exercises():
    assert {"01_tables.ipynb", "02_split.ipynb", "03_mlp.ipynb", "04_detector.ipynb"} <= {s.name for s, _ in PAIRS}


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
    """Each cell the learner writes in defines one function or class, and the next cell checks it."""
    student = _read(pair[1])
    sources = [c.source for c in student.cells if c.cell_type == "code"]
    for i, source in enumerate(sources):
        if "raise NotImplementedError" in source:
            name = DEFINED.search(source).group(1)
            assert CHECK_CELL.fullmatch(sources[i + 1].strip()), f"no check cell after the one defining {name}"
            check, checked = _check(sources[i + 1])
            assert checked == name, f"the cell after {name} checks {checked}"
            module = check.__module__.rsplit(".", 1)[-1]  # the checks of one exercise sit in its modules
            assert any(f"from grok_lib.exercises import {module}\n" in s for s in sources[: i + 1])


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_solution_functions_pass_their_checks(pair, capsys):
    """The worked solutions, run here without a kernel (nbval runs the whole notebooks)."""
    namespace: dict = {"torch": torch}
    checks = []
    for cell in _read(pair[0]).cells:
        if cell.cell_type == "code" and make_student.BEGIN in cell.source:
            exec(cell.source, namespace)
        elif cell.cell_type == "code" and CHECK_CELL.fullmatch(cell.source.strip()):
            checks.append(_check(cell.source))
    assert checks
    for check, name in checks:
        check(namespace[name])
        assert capsys.readouterr().out.startswith("✓")


# --------------------------------------------------------------------------- the book's pages


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_solutions_are_folded_and_both_notebooks_linked(pair):
    """In the book a reader sees each task first and its solution behind a click; both notebooks are linked."""
    solution = _read(pair[0])
    paths = [p.relative_to(ROOT).as_posix() for p in pair]
    want = make_student.prepared(solution, *paths)
    assert [(c.source, c.metadata) for c in want.cells] == [(c.source, c.metadata) for c in solution.cells], (
        f"{pair[0].name}: run `python exercises/make_student.py` to fold its solutions and link both notebooks")
    for cell in solution.cells:
        if cell.cell_type == "code" and make_student.BEGIN in cell.source:
            assert make_student.FOLD_TAG in cell.metadata["tags"]
    first = next(c for c in _read(pair[1]).cells if c.cell_type == "markdown").source
    assert make_student.links(*paths) in first
    assert f"/blob/main/{paths[1]})" in first.split("\n")[1]  # the student's own badge opens the student notebook


def test_links_paragraph_opens_the_student_notebook_in_colab():
    text = make_student.links("exercises/solutions/01_tables.ipynb", "exercises/01_tables.ipynb")
    assert text.startswith(make_student.LINKS_START)
    assert "[![Open the exercise in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab" \
           ".research.google.com/github/grokking-hands-on/course/blob/main/exercises/01_tables.ipynb)" in text
    assert "(https://github.com/grokking-hands-on/course/blob/main/exercises/solutions/01_tables.ipynb)" in text


# --------------------------------------------------------------------------- a learner's first run


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_student_notebook_stops_at_its_first_exercise(pair):
    """Run top to bottom as a learner first runs it, a student notebook fails with NotImplementedError in the
    first cell the learner writes in (or in the check cell that calls it), and nowhere before."""
    nb = _read(pair[1])
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    first = next(i for i in code if "raise NotImplementedError" in nb.cells[i].source)
    allowed = {first, code[code.index(first) + 1]}
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(EXERCISES)}})
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1
    where, error = errors[0]
    assert error.ename == "NotImplementedError", f"{pair[1].name}: cell {where} raised {error.ename}: {error.evalue}"
    assert where in allowed, f"{pair[1].name}: stopped in cell {where}, expected one of {sorted(allowed)}"
