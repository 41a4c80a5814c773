"""MkDocs hook: links from a page into the repository (``../src/...``, ``../examples/...``).

Pages are written to read well on GitHub too, where a relative link to a source file,
a JSON Schema or an example script simply works. On the site those files are outside
``docs/``. This hook publishes every repository file that a page links to under
``_source/`` in the site, and points the link there, so the link works in both places.
A link to a file that does not exist is left alone, and the strict build reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

#: ``](target)`` of a Markdown link or image, without a URL scheme or an anchor-only target
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s#]+)(#[^)\s]*)?\)")
PREFIX = "_source"


def _outside_target(page_uri: str, target: str, docs: Path, root: Path) -> str | None:
    """The repository-relative path ``target`` points at, when it is a file outside docs."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page_uri), target))
    if not joined.startswith("../"):
        return None
    path = (docs / joined).resolve()
    try:
        relative = path.relative_to(root)
    except ValueError:
        return None
    if not path.is_file() or relative.parts[0] in {".git", ".venv"}:
        return None
    return relative.as_posix()


def on_files(files: Files, config: Any) -> Files:
    """Publish the repository files that pages link to."""
    docs = Path(config["docs_dir"]).resolve()
    root = docs.parent
    wanted: set[str] = set()
    for file in files.documentation_pages():
        text = Path(file.abs_src_path or "").read_text(encoding="utf-8")
        for match in LINK.finditer(text):
            found = _outside_target(file.src_uri, match.group(1), docs, root)
            if found:
                wanted.add(found)
    for relative in sorted(wanted):
        content = (root / relative).read_bytes()
        files.append(File.generated(config, f"{PREFIX}/{relative}", content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Point links into the repository at the published copies."""
    docs = Path(config["docs_dir"]).resolve()
    root = docs.parent
    page_uri = page.file.src_uri

    def replace(match: re.Match[str]) -> str:
        found = _outside_target(page_uri, match.group(1), docs, root)
        if not found:
            return match.group(0)
        published = posixpath.relpath(f"{PREFIX}/{found}", posixpath.dirname(page_uri) or ".")
        return f"]({published}{match.group(2) or ''})"

    return LINK.sub(replace, markdown)
