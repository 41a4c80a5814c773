"""The documentation keeps up with the code: public names, reference pages, navigation."""

from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path
from types import ModuleType

import syncstate

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: ``::: path`` and the indented options below it
DIRECTIVE = re.compile(r"^::: (?P<path>[\w.]+)\n(?P<options>(?:    .*\n)*)", re.M)


def _directives() -> list[tuple[str, str, str]]:
    """(page, path, options) of every mkdocstrings entry in the API reference."""
    return [
        (page.name, found["path"], found["options"])
        for page in sorted((DOCS / "reference").glob("*.md"))
        for found in DIRECTIVE.finditer(page.read_text(encoding="utf-8"))
    ]


def _resolve(path: str) -> object:
    """The module, or the object inside a module, that ``path`` names."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


def test_every_public_name_is_listed_in_the_api_reference() -> None:
    index = (DOCS / "reference" / "index.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", index))
    missing = sorted(set(syncstate.__all__) - listed)
    assert missing == [], f"add these public names to docs/reference/index.md: {missing}"


def test_every_reference_entry_names_something_importable() -> None:
    for page, path, _ in _directives():
        try:
            _resolve(path)
        except (ImportError, AttributeError) as exc:
            raise AssertionError(f"docs/reference/{page}: ::: {path} names nothing") from exc


def test_every_public_name_has_one_entry_under_the_name_users_import() -> None:
    entries = Counter(
        path.removeprefix("syncstate.") for _, path, _ in _directives() if path.count(".") == 1
    )
    public = set(syncstate.__all__)
    assert sorted(public - set(entries)) == [], "add ::: syncstate.NAME to a reference page"
    assert {n: c for n, c in entries.items() if c > 1} == {}, "documented twice"
    assert sorted(set(entries) - public - {"errors", "notebook"}) == []


def test_no_object_is_documented_twice_under_two_names() -> None:
    seen: dict[int, str] = {}
    for page, path, options in _directives():
        found = _resolve(path)
        if isinstance(found, ModuleType):
            if "members: false" in options:
                continue  # the module's docstring only
            members = [getattr(found, name) for name in getattr(found, "__all__", ())]
        else:
            members = [found]
        for member in members:
            if isinstance(member, str | int | float | frozenset):
                continue  # constants are values: equal ones may be distinct entries
            where = f"{page}: {path}"
            assert id(member) not in seen, f"{where} documents what {seen[id(member)]} does"
            seen[id(member)] = where


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


def test_the_cli_reference_states_every_commands_exit_statuses() -> None:
    from syncstate.cli import COMMANDS

    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    table = page[page.index("Command by command:") : page.index("### Errors: one line")]
    rows = {row.split("|")[1] for row in table.splitlines() if row.startswith("| `")}
    named = {name for row in rows for name in re.findall(r"`(\w+)", row)}
    assert set(COMMANDS) <= named, sorted(set(COMMANDS) - named)
    for status in ("`0`", "`1`", "`2`", "`130`"):
        assert status in page
    assert '{"error": ' in page and '"type": ' in page and '"exit": ' in page  # --json errors
