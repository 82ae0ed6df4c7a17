"""Generate the student notebooks in exercises/ from the worked solutions in exercises/solutions/.

The solution notebooks are the single source. In their code cells, the lines a learner
writes sit between a ``# BEGIN SOLUTION`` line and an ``# END SOLUTION`` line. A student
notebook is its solution notebook with

- each marked region replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError``,
  indented like the ``# BEGIN SOLUTION`` line;
- no outputs (and no execution count) in the cells whose region was replaced, nor in any
  code cell after the first of them, since those outputs depend on the learner's code;
- the Open-in-Colab badge under the title pointing at the student notebook instead of the solution;
- no folding metadata on the cells whose region was replaced (see below).

Everything else (text, other code, cell ids, metadata) stays identical.

Before that, the script keeps two things in every solution notebook that the book shows:

- each cell with a marked region is folded in the built book: tagged ``hide-input``, with
  MyST-NB's prompt "Show the worked solution", so a reader sees the task first and opens the
  solution with a click (a ``<details>`` element: no JavaScript);
- the first Markdown cell has, under the badge, a paragraph linking both notebooks, with an
  Open-in-Colab badge for the student notebook.

    python exercises/make_student.py           # update the solutions' folding and links, write exercises/NN_name.ipynb
    python exercises/make_student.py --check   # exit 1 if any of these is out of date
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE / "solutions"
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError")
FOLD_TAG = "hide-input"
FOLD_PROMPTS = {"code_prompt_show": "Show the worked solution", "code_prompt_hide": "Hide the worked solution"}
LINKS_START = "**Two notebooks.**"

_spec = importlib.util.spec_from_file_location("sync_notebooks", HERE.parent / "tools" / "sync_notebooks.py")
sync_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync_notebooks)  # the repository URL and the badge, from their one place


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


def links(solution_path: str, student_path: str) -> str:
    """The paragraph under an exercise's title that links both notebooks (Colab and GitHub)."""
    url, branch = sync_notebooks.repository()
    colab = sync_notebooks.badge(url, branch, student_path).rsplit("](", 1)[1][:-1]
    solution_colab = colab.replace(student_path, solution_path)
    github = f"{url}/blob/{branch}"
    return (f"{LINKS_START} The exercise, with the parts you write left blank: "
            f"[![Open the exercise in Colab]({sync_notebooks.BADGE_IMAGE})]({colab}) "
            f"([`{student_path}`]({github}/{student_path})). The worked solution, every part written out and run: "
            f"[open it in Colab]({solution_colab}) ([`{solution_path}`]({github}/{solution_path})); in the book, "
            "each solution is folded under *Show the worked solution*.")


def prepared(solution: nbformat.NotebookNode, solution_path: str, student_path: str) -> nbformat.NotebookNode:
    """A copy of a solution notebook with its solution cells folded and the links paragraph in place."""
    nb = copy.deepcopy(solution)
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    lines = first.source.split("\n")
    rest = lines[2:]
    while rest and (not rest[0].strip() or rest[0].startswith(LINKS_START)):
        rest = rest[1:]
    first.source = "\n".join([*lines[:2], "", links(solution_path, student_path), *([""] + rest if rest else [])])
    for cell in nb.cells:
        if cell.cell_type == "code" and BEGIN in cell.source:
            tags = cell.metadata.setdefault("tags", [])
            if FOLD_TAG not in tags:
                tags.append(FOLD_TAG)
            cell.metadata["mystnb"] = {**cell.metadata.get("mystnb", {}), **FOLD_PROMPTS}
    return nb


def _unfold(cell: nbformat.NotebookNode) -> None:
    """Drop the book's folding from a cell that no longer holds a solution."""
    tags = [t for t in cell.metadata.get("tags", []) if t != FOLD_TAG]
    if tags:
        cell.metadata["tags"] = tags
    else:
        cell.metadata.pop("tags", None)
    prompts = {k: v for k, v in cell.metadata.get("mystnb", {}).items() if k not in FOLD_PROMPTS}
    if prompts:
        cell.metadata["mystnb"] = prompts
    else:
        cell.metadata.pop("mystnb", None)


def student_notebook(solution: nbformat.NotebookNode, solution_path: str, student_path: str
                     ) -> tuple[nbformat.NotebookNode, int]:
    """The student version of a solution notebook, and how many regions were stripped."""
    nb = copy.deepcopy(solution)
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if first is not None:  # the badge under the title opens the notebook it sits in
        lines = first.source.split("\n")
        if len(lines) > 1 and lines[1].startswith(sync_notebooks.BADGE_PREFIX):
            lines[1] = lines[1].replace(f"/{solution_path})", f"/{student_path})")
            first.source = "\n".join(lines)
    total = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.source, regions = strip_source(cell.source)
        total += regions
        if regions:
            _unfold(cell)
        if total:  # this cell, or an earlier one, holds the learner's code
            cell.outputs = []
            cell.execution_count = None
    return nb, total


def targets() -> list[tuple[Path, Path]]:
    """(solution, student) notebook paths, one pair per solution notebook."""
    return [(path, HERE / path.name) for path in sorted(SOLUTIONS.glob("*.ipynb"))]


def _paths(solution_file: Path, student_file: Path) -> tuple[str, str]:
    root = HERE.parent
    return solution_file.relative_to(root).as_posix(), student_file.relative_to(root).as_posix()


def _text(nb: nbformat.NotebookNode) -> str:
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def prepare(solution_file: Path, student_file: Path, check: bool) -> bool:
    """Fold the solution's solution cells and put its links paragraph in place (unless ``check``);
    True if the file on disk lacked either."""
    solution = nbformat.read(solution_file, as_version=4)
    new = prepared(solution, *_paths(solution_file, student_file))
    if [(c.source, c.metadata) for c in new.cells] == [(c.source, c.metadata) for c in solution.cells]:
        return False
    if not check:
        solution_file.write_text(_text(new), encoding="utf-8")
        print(f"folded the solutions and linked both notebooks in exercises/solutions/{solution_file.name}")
    return True


def render(solution_file: Path, student_file: Path) -> str:
    solution = nbformat.read(solution_file, as_version=4)
    nb, regions = student_notebook(solution, *_paths(solution_file, student_file))
    if not regions:
        raise MarkerError(f"{solution_file.name} has no {BEGIN} region: nothing for a learner to write")
    return _text(nb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    args = parser.parse_args(argv)
    stale = []
    for solution_file, student_file in targets():
        if prepare(solution_file, student_file, args.check):
            stale.append(f"solutions/{solution_file.name}")
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
        print("solutions folded and linked, student notebooks up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
