"""Serve MathJax from the built book itself, so its formulas typeset without a network.

Sphinx loads MathJax from a CDN by default. The `book` extra installs MathJax 3's files from
PyPI (the package ``django-static-mathjax`` ships them as a ``mathjax`` folder of static files
and depends on nothing); this extension copies the one bundle the book needs
(``tex-chtml-full.js``, which has every TeX package built in and fetches nothing at run time),
its fonts and its licence into the site's ``_static/mathjax/``, and points ``mathjax_path`` there.
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

from sphinx.application import Sphinx

BUNDLE = "tex-chtml-full.js"
FONTS = Path("output", "chtml", "fonts", "woff-v2")


def mathjax_source() -> Path:
    """MathJax's es5 folder inside the installed package (an error that says what to install if absent)."""
    try:
        root = Path(str(files("mathjax"))) / "static" / "mathjax"
    except ModuleNotFoundError:
        raise RuntimeError("MathJax's files are missing: install the book extra "
                           "(pip install -c constraints.txt -e '.[book]')") from None
    if not (root / "es5" / BUNDLE).is_file():
        raise RuntimeError(f"no {BUNDLE} under {root}: reinstall the book extra")
    return root


def stage(target: Path) -> Path:
    """Copy the bundle, its fonts and the licence to ``target/mathjax``; return that folder."""
    source = mathjax_source()
    out = target / "mathjax"
    shutil.rmtree(out, ignore_errors=True)
    (out / FONTS).mkdir(parents=True)
    shutil.copy2(source / "es5" / BUNDLE, out / BUNDLE)
    shutil.copy2(source / "LICENSE", out / "LICENSE")
    for font in (source / "es5" / FONTS).glob("*.woff"):
        shutil.copy2(font, out / FONTS / font.name)
    return out


def _add_static(app: Sphinx) -> None:
    staging = Path(app.doctreedir).parent / "local-mathjax"
    stage(staging)
    app.config.html_static_path.append(str(staging))


def setup(app: Sphinx) -> dict:
    app.config.mathjax_path = f"mathjax/{BUNDLE}"
    app.connect("builder-inited", _add_static)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
