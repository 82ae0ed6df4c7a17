"""Label the reference list the way the text cites: "Nanda et al., 2023", not "[NCL+23]".

The chapters cite author–year (``bibtex_reference_style: author_year``), but the list on the
references page takes its labels from the formatting style, whose labels are alphanumeric
keys. This extension registers a pybtex label style that writes the first author's surname
("and" the second's when there are two, "et al." for more) and the year, and a formatting
style that uses it; ``_config.yml`` names it as ``bibtex_default_style``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle

STYLE = "author_year_list"


def surname(person: Any) -> str:
    """A person's surname as printed: the last-name parts, with BibTeX's protecting braces removed."""
    return " ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "")


def author_year(entry: Any) -> str:
    """``"Power et al., 2022"``. Without an author, the editors, else the title (an unsigned
    notebook among the course's sources has neither author nor date): the same fallbacks as the
    in-text citation, so the label in the list matches what the text shows. The key only when
    there is no title either."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    year = entry.fields.get("year", "n.d.")
    if not people:
        title = entry.fields.get("title", "").replace("{", "").replace("}", "")
        return f"{title}, {year}" if title else entry.key
    names = surname(people[0])
    if len(people) == 2:
        names += f" and {surname(people[1])}"
    elif len(people) > 2:
        names += " et al."
    return f"{names}, {year}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries: Iterable[Any]) -> Iterator[str]:
        for entry in sorted_entries:
            yield author_year(entry)


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "author_year"
    default_sorting_style = "author_year_title"


def setup(app: Any) -> dict[str, Any]:
    register_plugin("pybtex.style.labels", "author_year", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", STYLE, AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
