"""MkDocs hook: put the ``--help`` of every ``syncstate`` command into the CLI reference.

A page containing the line ``<!-- syncstate-cli-help -->`` gets, in its place, one
section per command and sub-command with the help text argparse prints, so the
reference is always the help of the code being documented. A command that cannot be
imported fails the build.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

MARKER = "<!-- syncstate-cli-help -->"


def _sub_parsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, child in action.choices.items():
                if id(child) not in seen:  # aliases share a parser
                    seen.add(id(child))
                    found.append((name, child))
    return found


def _sections(parser: argparse.ArgumentParser, path: str, level: int) -> list[str]:
    heading = "#" * min(level, 4)
    text = parser.format_help().rstrip()
    out = [f"{heading} `{path}`", "", "```text", text, "```", ""]
    for name, child in _sub_parsers(parser):
        out += _sections(child, f"{path} {name}", level + 1)
    return out


def cli_reference() -> str:
    """The help of ``syncstate`` and of every sub-command, as Markdown."""
    from syncstate.cli import build_parser

    os.environ["COLUMNS"] = "92"
    parser = build_parser()
    parser.prog = "syncstate"
    return "\n".join(_sections(parser, "syncstate", 2))


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace the marker with the generated reference."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_reference())
