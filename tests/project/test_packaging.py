"""Packaging promises: ``python -m syncstate``, a star import without extras, one version."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import syncstate

ROOT = Path(__file__).resolve().parents[2]

#: run Python with the optional extras made unimportable (as on a plain install)
WITHOUT_EXTRAS = """
import sys
for name in ("psycopg", "psycopg_pool", "beancount", "pandas"):
    sys.modules[name] = None  # import of it raises ImportError
"""


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS + code],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_star_import_works_without_the_optional_extras() -> None:
    done = _python(
        "from syncstate import *\n"
        "import syncstate\n"
        "missing = [n for n in syncstate.__all__ if n not in globals()]\n"
        "print(len(syncstate.__all__), missing)\n"
    )
    assert done.returncode == 0, done.stderr
    count, missing = done.stdout.split(" ", 1)
    assert int(count) == len(syncstate.__all__)
    assert missing.strip() == "[]"


def test_a_name_whose_extra_is_missing_says_what_to_install_when_used() -> None:
    done = _python(
        "import syncstate\n"
        "try:\n"
        "    syncstate.PostgresStore('postgresql://nowhere/db')\n"
        "except syncstate.ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'syncstate[postgres]'" in done.stdout


def test_python_dash_m_syncstate_is_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "syncstate", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"syncstate {syncstate.__version__}"


def test_one_version_source_and_the_metadata_a_maintainer_publishes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["dynamic"] == ["version"]
    assert "version" not in project
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert project["license"] == "MIT"
    assert {"Homepage", "Documentation", "Changelog", "Issues"} <= set(project["urls"])
    classifiers = set(project["classifiers"])
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert "Programming Language :: Python :: 3.11" in classifiers
    # development tools are dependency groups, not published extras
    assert not {"test", "docs", "schema"} & set(project["optional-dependencies"])
    assert (ROOT / "src" / "syncstate" / "py.typed").exists()
