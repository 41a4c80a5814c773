"""The host's own pages (the panel is routed beside Django in ``asgi.py``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def home(request: HttpRequest) -> HttpResponse:
    """The host's home page."""
    return HttpResponse("the host's own page; the panel is at /sync/")


urlpatterns = [path("", home)]
