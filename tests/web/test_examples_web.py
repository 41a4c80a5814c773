"""The mounting examples in examples/web run: FastAPI, Django (ASGI routing) and Flask (WSGI)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from web_panel import csrf_of, seed, state_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "web"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "host.db"
    store = SQLiteStore(path)
    seed(store, "acme", "A")
    seed(store, "globex", "G")
    store.close()
    return path


@pytest.fixture
def examples_path() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    yield
    sys.path.remove(str(EXAMPLES))


def test_fastapi_example_mounts_the_panel_under_its_prefix(db: Path, examples_path: None) -> None:
    pytest.importorskip("fastapi", reason="the FastAPI example needs fastapi")
    import fastapi_app

    app: Any = fastapi_app.build(str(db))
    client = TestClient(app, follow_redirects=False)
    assert client.get("/").json() == {"panel": "/sync/"}
    assert client.get("/sync/c/acme/results").status_code == 401
    ann = client.get("/sync/c/acme/results", headers={"x-api-key": "key-ann"})
    assert ann.status_code == 200 and 'href="/sync/static/panel.css"' in ann.text
    assert "Unlink records" in ann.text
    assert client.get("/sync/c/globex/", headers={"x-api-key": "key-ann"}).status_code == 404
    joe = client.get("/sync/c/globex/results", headers={"x-api-key": "key-joe"})
    assert joe.status_code == 200 and "Unlink records" not in joe.text  # joe may not act


def test_flask_example_serves_the_panel_through_a2wsgi(db: Path, examples_path: None) -> None:
    pytest.importorskip("flask", reason="the Flask example needs flask")
    pytest.importorskip("a2wsgi", reason="the Flask example needs a2wsgi")
    import flask_app

    client = flask_app.build(str(db)).test_client()
    assert client.get("/").text == "the host's own page"
    assert client.get("/sync/c/acme/results").status_code == 401
    headers = {"X-Remote-User": "ann"}
    page = client.get("/sync/c/acme/results", headers=headers)
    assert page.status_code == 200 and 'formaction="/sync/c/acme/results/unlink"' in page.text
    form = {"csrf": csrf_of(page.text), "key": "time_entry:A-5", "reason": "via flask"}
    done = client.post("/sync/c/acme/results/unlink", data=form, headers=headers)
    assert done.status_code == 200
    store = SQLiteStore(db)
    try:
        assert state_of(store, "acme", "A-5") == "unlinked"
    finally:
        store.close()


DJANGO_CHECK = textwrap.dedent(
    """
    import asgi
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.test import Client
    from starlette.testclient import TestClient

    call_command("migrate", verbosity=0)
    ann = User.objects.create_user("ann", is_staff=True)
    ann.groups.add(Group.objects.create(name="company:acme"))
    login = Client()
    login.force_login(ann)
    client = TestClient(asgi.application, follow_redirects=False)
    assert client.get("/sync/c/acme/results").status_code == 401
    client.cookies.set("sessionid", login.cookies["sessionid"].value)
    page = client.get("/sync/c/acme/results")
    assert page.status_code == 200 and "A-1" in page.text and "Unlink records" in page.text
    assert 'href="/sync/static/panel.css"' in page.text
    assert client.get("/sync/c/globex/results").status_code == 404
    assert "the host's own page" in client.get("/").text
    print("django example ok")
    """
)


def test_django_example_routes_the_panel_beside_django(db: Path, tmp_path: Path) -> None:
    pytest.importorskip("django", reason="the Django example needs django")
    project = EXAMPLES / "django_project"
    env = {
        **os.environ,
        "EXAMPLE_DJANGO_DIR": str(tmp_path),
        "SYNCSTATE_DB": str(db),
        "DJANGO_SETTINGS_MODULE": "settings",
        "PYTHONPATH": os.pathsep.join([str(project), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", DJANGO_CHECK],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "django example ok" in done.stdout
