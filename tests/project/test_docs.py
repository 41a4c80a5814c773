"""The documentation keeps up with the code: public names, reference pages, navigation."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import syncstate

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_every_public_name_is_listed_in_the_api_reference() -> None:
    index = (DOCS / "reference" / "index.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", index))
    missing = sorted(set(syncstate.__all__) - listed)
    assert missing == [], f"add these public names to docs/reference/index.md: {missing}"


def test_every_reference_directive_names_an_importable_module() -> None:
    for page in sorted((DOCS / "reference").glob("*.md")):
        for name in re.findall(r"^::: ([\w.]+)", page.read_text(encoding="utf-8"), re.M):
            importlib.import_module(name)  # raises, naming the module, if it is gone


def test_every_page_is_in_the_site_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    in_nav = set(re.findall(r"^\s*- (?:[^:\n]+: )?([\w/.-]+\.md)\s*$", config, re.M))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert sorted(pages - in_nav) == [], "add these pages to the nav in mkdocs.yml"
    assert sorted(in_nav - pages) == [], "these nav entries have no page"


def test_getting_started_runs_the_example_it_shows() -> None:
    page = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    assert '--8<-- "examples/first_export.py"' in page
    assert (ROOT / "examples" / "first_export.py").exists()
