"""The reference list is labelled as the text cites (``_ext/author_year_bib.py``)."""

import importlib.util
from pathlib import Path

import yaml
from pybtex.database import Entry, Person

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("author_year_bib", ROOT / "_ext" / "author_year_bib.py")
bib = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bib)


def entry(key: str, *authors: str, year: str = "2023") -> Entry:
    e = Entry("article", fields={"year": year, "title": "t"})
    e.key = key
    for a in authors:
        e.add_person(Person(a), "author")
    return e


def test_labels_read_like_the_citations():
    assert bib.author_year(entry("g", "Gromov, Andrey")) == "Gromov, 2023"
    assert bib.author_year(entry("b", "Belkin, Mikhail", "Hsu, Daniel", year="2019")) == "Belkin and Hsu, 2019"
    assert bib.author_year(entry("n", "Nanda, Neel", "Chan, Lawrence", "Lieberum, Tom")) == "Nanda et al., 2023"
    untitled = entry("x")
    del untitled.fields["title"]
    assert bib.author_year(untitled) == "x"  # neither author nor title: the key, not an empty label


def test_an_unsigned_source_is_labelled_by_its_title_as_the_text_cites_it():
    e = Entry("misc", fields={"title": "A {study} of grokking"})
    e.key = "s"
    assert bib.author_year(e) == "A study of grokking, n.d."
    e.add_person(Person("Editor, Ed"), "editor")
    assert bib.author_year(e) == "Editor, n.d."


def test_the_book_uses_the_style():
    book = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]
    assert book["config"]["bibtex_default_style"] == bib.STYLE
    assert book["local_extensions"]["author_year_bib"] == "_ext"
