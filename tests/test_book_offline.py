"""The HTML book must typeset its formulas with no network: MathJax is served by the site itself.

Fails when ``_config.yml`` points MathJax at a remote URL, when the extension that serves it
(``_ext/local_mathjax.py``) stages the wrong files, and when a built page (``make book``) loads
MathJax over http(s) or from a missing file. The built-site checks skip, with a reason, when the
book has not been built.
"""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILT = ROOT / "_build" / "html"
FONTS = Path("output/chtml/fonts/woff-v2")
REMOTE = re.compile(r"^(https?:)?//", re.IGNORECASE)

_spec = importlib.util.spec_from_file_location("local_mathjax", ROOT / "_ext" / "local_mathjax.py")
local_mathjax = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(local_mathjax)


def _sphinx_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))["sphinx"]["config"]


class _Scripts(HTMLParser):
    """Collects the ``src`` of every ``<script>`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        src = dict(attrs).get("src")
        if tag == "script" and src:
            self.sources.append(src)


def _script_sources(page: Path) -> list[str]:
    parser = _Scripts()
    parser.feed(page.read_text(encoding="utf8"))
    return parser.sources


def test_config_serves_mathjax_from_the_site() -> None:
    book = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))["sphinx"]
    path = book["config"].get("mathjax_path", "")
    assert path and not REMOTE.match(path), f"mathjax_path must be a local file, got {path!r}"
    assert book.get("local_extensions", {}).get("local_mathjax") == "_ext"
    assert path == f"mathjax/{local_mathjax.BUNDLE}"


def test_the_extension_stages_the_bundle_its_fonts_and_licence(tmp_path: Path) -> None:
    out = local_mathjax.stage(tmp_path)
    assert (out / local_mathjax.BUNDLE).stat().st_size > 1_000_000  # the full bundle, every TeX package in it
    assert "Apache License" in (out / "LICENSE").read_text(encoding="utf8")
    assert len(list((out / FONTS).glob("MathJax_*.woff"))) >= 20
    assert sorted(p.name for p in out.iterdir()) == sorted([local_mathjax.BUNDLE, "LICENSE", "output"])
    # staging again replaces, rather than adds to, what an earlier build left
    (out / "stale.js").write_text("old")
    local_mathjax.stage(tmp_path)
    assert not (out / "stale.js").exists()


def test_the_extension_says_what_to_install_without_mathjax(monkeypatch) -> None:
    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(local_mathjax, "files", missing)
    with pytest.raises(RuntimeError, match="book extra"):
        local_mathjax.mathjax_source()


@pytest.fixture(scope="module")
def built_pages() -> list[Path]:
    if not (BUILT / "index.html").is_file():
        pytest.skip("the HTML book is not built (run `make book`); built-site checks skipped")
    return sorted(BUILT.rglob("*.html"))


def test_no_built_page_loads_mathjax_over_the_network(built_pages: list[Path]) -> None:
    remote = [
        f"{page.relative_to(BUILT)}: {src}"
        for page in built_pages
        for src in _script_sources(page)
        if REMOTE.match(src) and "mathjax" in src.lower()
    ]
    assert not remote


def test_pages_with_math_load_the_local_mathjax_file(built_pages: list[Path]) -> None:
    name = Path(_sphinx_config()["mathjax_path"]).name
    with_math = 0
    for page in built_pages:
        local = [s for s in _script_sources(page) if s.endswith(name) or f"{name}?" in s]
        if not local:
            continue
        with_math += 1
        target = (page.parent / urlsplit(local[0]).path).resolve()
        assert target.is_file(), f"{page.relative_to(BUILT)} loads {local[0]}, which the site lacks"
        assert (target.parent / FONTS / "MathJax_Main-Regular.woff").is_file()
    # the course pages are full of formulas: at least the introduction and the first-run chapter
    assert with_math >= 2
    for chapter in ("book/intro.html", "book/02_first_run.html"):
        assert any(name in s for s in _script_sources(BUILT / chapter)), chapter
