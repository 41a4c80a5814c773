"""Project-level promises: the public API surface and the CI command (layout: test_layout)."""

from __future__ import annotations

import re
from pathlib import Path

import syncstate

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_the_test_command_that_the_readme_gives() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(.+?)\n```", readme)
    assert len(commands) >= 2, "README gives a demo command and a test command"
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_all_lists_exactly_the_public_names_sorted() -> None:
    exported = set(syncstate.__all__)
    for name in exported:
        assert getattr(syncstate, name) is not None, name
    public = {n for n in dir(syncstate) if not n.startswith("_")}
    helpers = {"annotations", "importlib", "TYPE_CHECKING", "Any"}
    modules = {n for n in public if isinstance(getattr(syncstate, n), type(syncstate))}
    assert public - exported - modules - helpers == set()
    assert len(syncstate.__all__) == len(exported)  # no duplicates; ruff (RUF022) keeps the order
