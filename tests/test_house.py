"""The library's house rules, checked on its source: small modules, each sub-package saying what it holds,
and no module importing the package root (the layer contract itself is `lint-imports`, run by `make test`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grok_lib"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 300


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def test_modules_found():
    assert len(MODULES) > 20


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_module_is_small(path: Path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{_rel(path)} has {n} lines; split it into modules named for what they hold"


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_module_says_what_it_holds(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{_rel(path)} has no module docstring"


def _depth(path: Path) -> int:
    """How many packages below grok_lib a module sits (0 for grok_lib/x.py and grok_lib/sub/__init__.py)."""
    depth = len(path.relative_to(PACKAGE).parts) - 1
    return depth - 1 if path.name == "__init__.py" else depth


def _imports_of_root(source: str, depth: int) -> list[str]:
    """Imports of the package root itself: ``import grok_lib``, ``from grok_lib import x``, or a relative
    ``from .. import x`` that climbs to it from a module ``depth`` packages below it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            absolute = node.level == 0 and node.module == "grok_lib"
            relative = node.level == depth + 1 and node.module is None
            if absolute or relative:
                found.append(f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import ...")
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import grok_lib" for a in node.names if a.name == "grok_lib"]
    return found


@pytest.mark.parametrize("path", [p for p in MODULES if p != PACKAGE / "__init__.py"], ids=_rel)
def test_no_import_of_the_package_root(path: Path):
    """The root re-exports every layer, so a module importing it imports its own callers too."""
    found = _imports_of_root(path.read_text(encoding="utf-8"), _depth(path))
    assert not found, f"{_rel(path)} imports grok_lib itself: {found}"


@pytest.mark.parametrize("source", ["from grok_lib import __version__", "from .. import __version__",
                                    "import grok_lib"])
def test_root_import_detector_catches_each_form(source: str):
    assert _imports_of_root(source, depth=1)


def test_root_import_detector_lets_layers_import_each_other():
    assert not _imports_of_root("from grok_lib.task.data import tokens\nfrom . import kernels\n", depth=1)
    assert not _imports_of_root((PACKAGE / "training" / "trainer.py").read_text(encoding="utf-8"), depth=1)


def _named_in_the_module_table() -> set[str]:
    """The modules the introduction's "Where the code lives" table names: a row's first cell lists paths
    (``grok_lib/training/optimizers.py``), bare file names of the first path's folder (``losses.py``), or folders
    (``grok_lib/analysis/mechanism/``, ``explorer/``) that stand for every module inside them."""
    intro = (PACKAGE.parent / "book" / "intro.md").read_text()
    section = intro.split("## Where the code lives", 1)[1]
    named: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        folder = ""
        for name in line.split("|")[1].replace("`", "").split(","):
            name = name.strip()
            if name.startswith("grok_lib/"):
                folder = name if name.endswith("/") else name.rsplit("/", 1)[0] + "/"
                named.add(name)
            else:
                named.add(folder + name)
    return named


@pytest.mark.parametrize("path", [m for m in MODULES if m.name not in ("__init__.py", "__main__.py", "version.py")],
                         ids=_rel)
def test_module_is_in_the_introductions_module_table(path: Path):
    """A newcomer finds every module from the book's first page: new modules must be added to its table."""
    rel = _rel(path)
    named = _named_in_the_module_table()
    folders = [n for n in named if n.endswith("/")]
    assert rel in named or any(rel.startswith(f) for f in folders), f"{rel} is missing from the table in book/intro.md"
