"""A minimal Django project that mounts the syncstate panel (see ``asgi.py``).

Users and sessions are Django's own (``django.contrib.auth``); a user's companies are
their groups named ``company:ID``, and staff may act.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(os.environ.get("EXAMPLE_DJANGO_DIR", Path(__file__).resolve().parent))
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "django.db")}
}
USE_TZ = True
#: the syncstate store the panel shows
SYNCSTATE_DB = os.environ.get("SYNCSTATE_DB", str(BASE_DIR / "syncstate.db"))
