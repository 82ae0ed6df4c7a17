"""Small conveniences for the course notebooks."""

from __future__ import annotations

from typing import Any


def glue(name: str, value: Any, display: bool = False) -> None:
    """Hand a result to the book's text (``{glue:text}`name```) through myst-nb.

    Outside a book build (Colab, a plain Jupyter) myst-nb may be absent; the call then does
    nothing, so the same cell runs everywhere.
    """
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return
    _glue(name, value, display=display)
