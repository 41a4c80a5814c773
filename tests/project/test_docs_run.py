"""Every Python block of the documentation runs as written.

A reader copies a block from a guide and expects it to work. So every
```` ```python ```` block of every page in ``docs/`` (and of ``README.md``) is
run here: the blocks of one page in order, in one namespace (a page is a
tutorial), in a fresh interpreter whose working directory is an empty
temporary folder. A block that cannot run anywhere but in a user's own setup
(a QuickBooks company and its OAuth tokens, a PostgreSQL server, the test
module of a plug-in package) carries a title that starts with ``Not run:``::

    ```python title="Not run: needs your QuickBooks company and OAuth tokens"

Such a block is still compiled, and every name it imports from ``syncstate``
must exist. The convention is described in ``docs/index.md``.

Blocks import public names only: ``from syncstate import ...`` (or
``syncstate.notebook`` and the kits in ``syncstate.testing``). A name a guide
needs that is not exported yet is listed in ``PENDING_EXPORTS``
(``tests/support/public_imports.py``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from public_imports import exported_pending, import_problems

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]

#: the title that marks a block as not runnable here
NOT_RUN = "Not run:"
#: an opening fence of a Python block, with its optional attributes (``title="..."``)
OPEN = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?:python|py)\b(?P<info>.*)$")
TITLE = re.compile(r'title="(?P<title>[^"]*)"')
SNIPPET = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')
#: runs the blocks of one page, given as JSON, and names the block that fails
RUNNER = r"""
import json, sys, traceback, types
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
main = types.ModuleType("__main__")
sys.modules["__main__"] = main
for block in blocks:
    source = "\n" * (block["line"] - 1) + block["code"]
    try:
        exec(compile(source, block["page"], "exec"), main.__dict__)
    except BaseException:
        print(f"FAILED: {block['page']}, block at line {block['line']}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
"""


@attrs.frozen
class Block:
    """One Python block: where it is, its code, and whether it runs here."""

    page: str
    line: int  # of the block's first code line
    code: str
    title: str

    @property
    def runs(self) -> bool:
        return not self.title.startswith(NOT_RUN)


def _expand(line: str) -> list[str]:
    """A ``--8<-- "path"`` line (pymdownx.snippets) becomes the file's lines."""
    found = SNIPPET.match(line)
    if not found:
        return [line]
    return (ROOT / found["path"]).read_text(encoding="utf-8").splitlines()


def blocks_of(path: Path) -> list[Block]:
    """The Python blocks of a Markdown page, in order."""
    page = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = OPEN.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        title = TITLE.search(opening["info"])
        start = i + 1
        code: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            code.extend(_expand(lines[i][len(indent) :]))
            i += 1
        found.append(
            Block(page, start + 1, "\n".join(code) + "\n", title["title"] if title else "")
        )
        i += 1
    return found


ALL = {p.relative_to(ROOT).as_posix(): blocks_of(p) for p in PAGES}
RUNNABLE = sorted(page for page, blocks in ALL.items() if any(b.runs for b in blocks))


def test_the_documentation_has_python_blocks_to_run() -> None:
    assert len(RUNNABLE) >= 10, RUNNABLE
    assert "README.md" in RUNNABLE and "docs/getting-started.md" in RUNNABLE


@pytest.mark.parametrize("page", RUNNABLE)
def test_every_block_of_the_page_runs_as_written(page: str, tmp_path: Path) -> None:
    work, scratch = tmp_path / "cwd", tmp_path / "tmp"
    work.mkdir()
    scratch.mkdir()
    script = tmp_path / "blocks.json"
    script.write_text(json.dumps([attrs.asdict(b) for b in ALL[page] if b.runs]), "utf-8")
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(script)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{page}: its blocks did not finish within 120 s")
    if done.returncode != 0:
        failed = re.search(r"^FAILED: (.*)$", done.stderr, re.M)
        where = failed.group(1) if failed else page
        pytest.fail(f"{where} does not run as written:\n{done.stderr[-3000:]}", pytrace=False)


@pytest.mark.parametrize("page", sorted(ALL))
def test_blocks_import_public_names_that_exist(page: str) -> None:
    problems: list[str] = []
    for block in ALL[page]:
        where = f"{page}, block at line {block.line}"
        compile(block.code, where, "exec")  # not-run blocks too: a syntax error fails here
        problems += import_problems(block.code, where)
    assert problems == []


def test_names_waiting_to_be_exported_are_not_exported_yet() -> None:
    assert exported_pending() == [], (
        f"syncstate now exports {exported_pending()}: import them from syncstate in the "
        "guides and examples, and remove them from PENDING_EXPORTS"
    )


def test_the_not_run_convention_is_documented_where_readers_look() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert f'title="{NOT_RUN}' in index
    marked = [b for blocks in ALL.values() for b in blocks if not b.runs]
    assert all(len(b.title) > len(NOT_RUN) + 5 for b in marked), "say why a block is not run"
