"""The documentation site builds cleanly, and no code block is wider than its page.

Long signatures and code lines wrap (``docs/stylesheets/reference.css``) rather
than hiding behind a horizontal scroll bar. This is checked the way a reader sees
it: the site is built with ``mkdocs build --strict`` and every page is laid out by
a real browser (headless Chromium, 1000 px wide), which reports each ``pre > code``
whose content is wider than its box. The check is proven to see overflow by
running it once on a page with the stylesheet removed.

Skipped when mkdocs (``pip install --group docs``) or Chromium
(``apt-get install chromium``) is missing; never skipped for any other reason.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1000
STYLESHEET = "stylesheets/reference.css"

#: measures every code block once the page (and its stylesheets) has loaded
PROBE = """<script>
window.addEventListener("load", () => {
  const codes = [...document.querySelectorAll("article pre > code")];
  const wide = codes.filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) =>
    c.textContent.split("\\n").reduce((a, b) => (a.length >= b.length ? a : b)).slice(0, 100));
  const out = document.createElement("div");
  out.id = "syncstate-probe";
  out.setAttribute("data-report", JSON.stringify({ blocks: codes.length, wide: wide }));
  document.body.appendChild(out);
});
</script>"""
REPORT = re.compile(r'id="syncstate-probe" data-report="(?P<report>[^"]*)"')


def _chromium() -> str | None:
    return next((p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="install the docs group: pip install --group docs")
    pytest.importorskip("mkdocstrings", reason="install the docs group: pip install --group docs")
    folder = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    return folder


@pytest.fixture(scope="module")
def chromium() -> str:
    found = _chromium()
    if found is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return found


def _measure(chromium: str, page: Path, *, without_stylesheet: bool = False) -> dict[str, object]:
    """Lay ``page`` out in Chromium and return ``{"blocks": n, "wide": [longest lines]}``."""
    # web fonts are not fetched (no network in tests); the fallback monospace is as wide
    text = re.sub(r'<link[^>]*href="https://fonts[^"]*"[^>]*>', "", page.read_text("utf-8"))
    if without_stylesheet:
        text = re.sub(rf'<link rel="stylesheet" href="[^"]*{STYLESHEET}">', "", text)
    probe = page.with_name(f"probe-{os.getpid()}-{without_stylesheet}.html")
    probe.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: pages are local
                f"--user-data-dir={profile}",
                f"--window-size={WIDTH},2000",
                "--virtual-time-budget=2000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    probe.unlink()
    found = REPORT.search(done.stdout)
    assert found, f"{page}: Chromium reported nothing:\n{done.stderr[-2000:]}"
    report: dict[str, object] = json.loads(html.unescape(found["report"]))
    return report


def test_the_site_links_the_stylesheet_that_wraps_code(site: Path) -> None:
    pages = sorted(site.rglob("index.html"))
    assert len(pages) > 20
    unlinked = [str(p.relative_to(site)) for p in pages if STYLESHEET not in p.read_text("utf-8")]
    assert unlinked == []
    assert "white-space: pre-wrap" in (site / STYLESHEET).read_text(encoding="utf-8")


def test_the_check_sees_a_code_block_wider_than_its_page(site: Path, chromium: str) -> None:
    # RESET_WARNING's value is one long line: without the stylesheet it overflows
    report = _measure(
        chromium, site / "reference" / "results" / "index.html", without_stylesheet=True
    )
    assert any("RESET_WARNING" in line for line in report["wide"]), report  # type: ignore[union-attr]


def test_no_code_block_is_wider_than_its_page(site: Path, chromium: str) -> None:
    pages = sorted(p for p in site.rglob("index.html") if "_source" not in p.parts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = dict(zip(pages, pool.map(lambda p: _measure(chromium, p), pages), strict=True))
    reference = [r for p, r in reports.items() if "reference" in p.parts]
    assert sum(int(r["blocks"]) for r in reference) > 300, "the reference shows its signatures"  # type: ignore[call-overload]
    wide = {str(p.relative_to(site)): r["wide"] for p, r in reports.items() if r["wide"]}
    assert wide == {}, "code wider than the page (it should wrap)"
