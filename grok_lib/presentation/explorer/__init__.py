"""The static explorer: a sweep's stored runs in one self-contained HTML page."""

from .page import explorer_html, load_runs, pack, write_html

__all__ = ["explorer_html", "load_runs", "pack", "write_html"]
