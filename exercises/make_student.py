"""Generate the student notebooks in exercises/ from the worked solutions in exercises/solutions/.

The solution notebooks are the single source. In their code cells, the lines a learner
writes sit between a ``# BEGIN SOLUTION`` line and an ``# END SOLUTION`` line. A student
notebook is its solution notebook with

- each marked region replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError``,
  indented like the ``# BEGIN SOLUTION`` line;
- no outputs (and no execution count) in the cells whose region was replaced, nor in any
  code cell after the first of them, since those outputs depend on the learner's code;
- the Open-in-Colab badge pointing at the student notebook instead of the solution.

Everything else (text, other code, cell ids, metadata) stays identical.

    python exercises/make_student.py           # write exercises/NN_name.ipynb
    python exercises/make_student.py --check   # exit 1 if any student notebook is out of date
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE / "solutions"
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError")


class MarkerError(ValueError):
    """A solution cell whose BEGIN/END SOLUTION markers do not pair up."""


def strip_source(source: str) -> tuple[str, int]:
    """Replace every marked region of one cell's source; return (new source, number of regions)."""
    out: list[str] = []
    regions = 0
    indent: str | None = None
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if indent is not None:
                raise MarkerError(f"line {number}: {BEGIN} inside another solution region")
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + text for text in PLACEHOLDER)
            regions += 1
        elif marker == END:
            if indent is None:
                raise MarkerError(f"line {number}: {END} without a {BEGIN}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise MarkerError(f"{BEGIN} without an {END}")
    return "\n".join(out), regions


def student_notebook(solution: nbformat.NotebookNode, solution_path: str, student_path: str
                     ) -> tuple[nbformat.NotebookNode, int]:
    """The student version of a solution notebook, and how many regions were stripped."""
    nb = copy.deepcopy(solution)
    total = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(f"/blob/main/{solution_path})", f"/blob/main/{student_path})")
            continue
        if cell.cell_type != "code":
            continue
        cell.source, regions = strip_source(cell.source)
        total += regions
        if total:  # this cell, or an earlier one, holds the learner's code
            cell.outputs = []
            cell.execution_count = None
    return nb, total


def targets() -> list[tuple[Path, Path]]:
    """(solution, student) notebook paths, one pair per solution notebook."""
    return [(path, HERE / path.name) for path in sorted(SOLUTIONS.glob("*.ipynb"))]


def render(solution_file: Path, student_file: Path) -> str:
    root = HERE.parent
    solution = nbformat.read(solution_file, as_version=4)
    nb, regions = student_notebook(solution, solution_file.relative_to(root).as_posix(),
                                   student_file.relative_to(root).as_posix())
    if not regions:
        raise MarkerError(f"{solution_file.name} has no {BEGIN} region: nothing for a learner to write")
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale student notebooks")
    args = parser.parse_args(argv)
    stale = []
    for solution_file, student_file in targets():
        text = render(solution_file, student_file)
        current = student_file.read_text(encoding="utf-8") if student_file.exists() else None
        if text == current:
            continue
        stale.append(student_file.name)
        if not args.check:
            student_file.write_text(text, encoding="utf-8")
            print(f"wrote exercises/{student_file.name}")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run `python exercises/make_student.py`", file=sys.stderr)
        return 1
    if args.check:
        print("student notebooks are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
