"""Checks on the notebooks themselves (their execution is checked by nbval, see the Makefile).

Fails when a notebook is out of sync with the course conventions that
``tools/sync_notebooks.py`` writes (title, Colab badge, set-up cell), when a chapter was
saved without outputs or with a progress bar or a machine path in them, or when the table
of contents and the chapters disagree.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "tools" / "sync_notebooks.py")
sync_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync_notebooks)

NOTEBOOKS = sync_notebooks.notebooks(ROOT)
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
PROGRESS_BAR = re.compile(r"\d+%\|[^|\n]*\||\d+(\.\d+)?\s*(it|step)s?/s")
MACHINE_PATH = re.compile(r"(?<![\w.])/(tmp|work|home|Users|root|var/folders)/")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _output_texts(nb: nbformat.NotebookNode):
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                yield out["text"]
            for mime, value in out.get("data", {}).items():
                if isinstance(value, str) and not mime.startswith("image/"):
                    yield value


def test_there_are_notebooks():
    assert CHAPTERS, "no chapters found in book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_in_sync_with_conventions(path: Path):
    url, branch = sync_notebooks.repository(ROOT)
    nb = nbformat.read(path, as_version=4)
    want = sync_notebooks.synced(nb, _rel(path), url, branch)
    assert sync_notebooks.conventions(nb) == sync_notebooks.conventions(want), (
        f"{_rel(path)} is out of sync: run `python tools/sync_notebooks.py` and execute it again"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_asks_colab_for_a_gpu(path: Path):
    assert nbformat.read(path, as_version=4).metadata.get("accelerator") == "GPU", (
        f"{_rel(path)}: its metadata does not ask Colab for a GPU runtime; run `python tools/sync_notebooks.py`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_badge_under_title_and_setup_first(path: Path):
    url, branch = sync_notebooks.repository(ROOT)
    nb = nbformat.read(path, as_version=4)
    first_md = next(c for c in nb.cells if c.cell_type == "markdown")
    lines = first_md.source.split("\n")
    assert lines[0].startswith("# ")
    assert lines[1] == sync_notebooks.badge(url, branch, _rel(path))
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.source == sync_notebooks.setup_source(url)


@pytest.mark.parametrize("path", CHAPTERS, ids=_rel)
def test_chapter_stored_with_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    unexecuted = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not unexecuted, f"{_rel(path)}: code cells {unexecuted} have not been run; execute and save it"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{_rel(path)} was saved with an error output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_no_progress_bars_or_machine_paths(path: Path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {}), (
                f"{_rel(path)}: a widget (progress bar?) is stored in the outputs; pass progress=False"
            )
    for text in _output_texts(nb):
        assert not PROGRESS_BAR.search(text), f"{_rel(path)}: a progress bar is stored: {text[:80]!r}"
    for text in [*(c.source for c in nb.cells), *_output_texts(nb)]:
        found = MACHINE_PATH.search(text)
        assert not found, f"{_rel(path)}: a machine path is stored near {text[max(found.start() - 40, 0):][:100]!r}"


def _toc_files(entries) -> list[str]:
    files = []
    for entry in entries or []:
        if "file" in entry:
            files.append(entry["file"])
        for key in ("chapters", "sections", "parts"):
            files += _toc_files(entry.get(key))
    return files


def test_table_of_contents_matches_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    listed = [toc["root"], *_toc_files(toc.get("parts")), *_toc_files(toc.get("chapters"))]
    missing = [f for f in listed if not any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"
    unlisted = [_rel(p) for p in CHAPTERS if _rel(p.with_suffix("")) not in listed]
    assert not unlisted, f"chapters missing from _toc.yml: {unlisted}"


def test_sync_is_idempotent():
    url, branch = sync_notebooks.repository(ROOT)
    for path in NOTEBOOKS:
        once = sync_notebooks.synced(nbformat.read(path, as_version=4), _rel(path), url, branch)
        twice = sync_notebooks.synced(once, _rel(path), url, branch)
        assert sync_notebooks.conventions(once) == sync_notebooks.conventions(twice)
