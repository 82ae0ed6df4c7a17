"""Keep every notebook's opening in line with the course conventions.

For each notebook in ``book/`` and ``exercises/`` (sub-folders included) this script makes
sure that

* the first markdown cell starts with a ``# Title`` line followed by an "Open in Colab"
  badge whose link is built from the repository URL in ``_config.yml`` and the notebook's
  path in the repository;
* the first code cell is the standard set-up cell (clone and install on Colab, otherwise
  use this checkout; then pick the device);
* the notebook's metadata asks Colab for a GPU runtime (``accelerator: GPU``).

The repository URL lives only in ``_config.yml``. Run ``python tools/sync_notebooks.py`` to
rewrite notebooks in place, or ``--check`` to list the ones out of sync without touching
them (exit status 1 if any). A rewritten set-up cell loses its stored output, so execute
the notebook again afterwards.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("book", "exercises")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_PREFIX = "[![Open In Colab]"

SETUP_TEMPLATE = """\
# Setup: on Colab, fetch the course and install its library; elsewhere, use this checkout.
import sys

if "google.colab" in sys.modules:
    !git clone -q --depth 1 {url} /content/course
    %pip install -q -e /content/course
    sys.path.insert(0, "/content/course")

import grok_lib

device = grok_lib.resolve_device()  # the GPU when there is one, else the CPU
print("training on:", device.type)"""
SETUP_MARK = "# Setup:"
# what Colab reads from a notebook's metadata to open it on a GPU runtime
COLAB_METADATA = {"accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []}}


def repository(root: Path = ROOT) -> tuple[str, str]:
    """(url, branch) from the ``repository:`` block of ``_config.yml``."""
    import yaml

    cfg = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = cfg.get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"_config.yml repository.url must be a GitHub URL, got {url!r}")
    return url, str(repo.get("branch", "main"))


def badge(url: str, branch: str, rel_path: str) -> str:
    slug = url.removeprefix("https://github.com/")
    link = f"https://colab.research.google.com/github/{slug}/blob/{branch}/{rel_path}"
    return f"{BADGE_PREFIX}({BADGE_IMAGE})]({link})"


def setup_source(url: str) -> str:
    return SETUP_TEMPLATE.format(url=url)


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook the conventions apply to (checkpoints and build output excluded)."""
    found = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts and "_build" not in path.parts:
                found.append(path)
    return found


def synced(nb: nbformat.NotebookNode, rel_path: str, url: str, branch: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with the title badge and the set-up cell as the conventions want."""
    nb = copy.deepcopy(nb)
    cells = nb.cells
    # ---- title + badge in the first markdown cell ----
    md_index = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), None)
    if md_index is None:
        raise ValueError(f"{rel_path}: no markdown cell; the first one must start with '# Title'")
    lines = cells[md_index].source.split("\n")
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"{rel_path}: the first markdown cell must start with a '# Title' line")
    rest = lines[1:]
    while rest and (not rest[0].strip() or rest[0].startswith(BADGE_PREFIX)):
        rest = rest[1:]  # drop any badge (and blank lines) already under the title
    body = ["", *rest] if rest else []
    cells[md_index].source = "\n".join([lines[0], badge(url, branch, rel_path), *body])
    # ---- the set-up cell as the first code cell ----
    want = setup_source(url)
    code_index = next((i for i, c in enumerate(cells) if c.cell_type == "code"), None)
    if code_index is not None and cells[code_index].source.startswith(SETUP_MARK):
        if cells[code_index].source != want:
            cells[code_index].source = want
            cells[code_index].outputs = []
            cells[code_index].execution_count = None
    else:
        cell = nbformat.v4.new_code_cell(want)
        cell.pop("id", None)
        if nb.nbformat_minor >= 5:
            cell["id"] = f"setup-{len(cells)}"
        where = md_index + 1 if code_index is None else min(code_index, md_index + 1)
        cells.insert(where, cell)
    # ---- a GPU runtime on Colab ----
    nb.metadata.update(copy.deepcopy(COLAB_METADATA))
    return nb


def conventions(nb: nbformat.NotebookNode) -> tuple:
    """What the conventions govern: every cell's type and source, and the Colab runtime metadata."""
    return [(c.cell_type, c.source) for c in nb.cells], {k: nb.metadata.get(k) for k in COLAB_METADATA}


def sync(root: Path = ROOT, check: bool = False) -> list[str]:
    """Rewrite (or, with ``check``, only report) the notebooks out of sync; return their paths."""
    url, branch = repository(root)
    changed = []
    for path in notebooks(root):
        rel = path.relative_to(root).as_posix()
        nb = nbformat.read(path, as_version=4)
        new = synced(nb, rel, url, branch)
        if conventions(new) != conventions(nb):
            changed.append(rel)
            if not check:
                nbformat.write(new, path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks out of sync")
    args = parser.parse_args(argv)
    changed = sync(check=args.check)
    verb = "out of sync" if args.check else "rewritten"
    for rel in changed:
        print(f"{verb}: {rel}")
    if args.check and changed:
        print("run `python tools/sync_notebooks.py`, then execute the changed notebooks again", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
