"""Who is asking, what they may see, and proof that a form came from the panel.

The host owns identity. It passes ``authorize``, a callable that receives the
Starlette :class:`~starlette.requests.Request` and returns a :class:`Viewer` (who
this is, which companies they may see, whether they may act) or ``None`` for "not
signed in". It may be a coroutine function. The panel calls it on **every**
request, checks every company named in a URL or form against
:attr:`Viewer.companies` on the server, and refuses state-changing requests from
a viewer who may not act.

POSTs carry a CSRF token (form field ``csrf`` or header ``X-CSRF-Token``): an
HMAC of the user's name under the panel's secret, so a page on another site
cannot forge one and a token of one user is worthless to another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeAlias

import attrs
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

__all__ = ["Authorize", "CsrfGuard", "Refused", "Viewer", "authorized_viewer"]


def _companies(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):  # frozenset("acme") would be four one-letter companies
        raise TypeError(f"Viewer.companies must be a collection of ids, got the string {value!r}")
    return frozenset(value)


@attrs.frozen(kw_only=True)
class Viewer:
    """The person using the panel, as the host's ``authorize`` callback describes them.

    ``user`` is written to the journal as the actor of every change they make;
    ``companies`` are the only companies they can see or change; ``may_act``
    allows unlink, relink, export, reset and the other changes (read-only without).
    """

    user: str
    companies: frozenset[str] = attrs.field(converter=_companies)
    may_act: bool = False

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.user, str) or not self.user.strip():
            raise ValueError("Viewer.user must be a non-empty string (it is the journal's actor)")

    def sees(self, company: str) -> bool:
        """Whether this viewer may see ``company``."""
        return company in self.companies


#: the host's callback: a request in, a :class:`Viewer` (or ``None``: not signed in) out
Authorize: TypeAlias = Callable[[Request], "Viewer | Awaitable[Viewer | None] | None"]


class Refused(Exception):
    """A request the panel refuses: ``status`` (401, 403, 404) and a message to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def authorized_viewer(request: Request, authorize: Authorize) -> Viewer:
    """Ask the host who this is; 401 when nobody is signed in."""
    asynchronous = inspect.iscoroutinefunction(authorize) or inspect.iscoroutinefunction(
        type(authorize).__call__  # an object whose __call__ is a coroutine function
    )
    if asynchronous:
        found = authorize(request)
    else:  # a plain function may read a database (Django's ORM refuses the event loop)
        found = await run_in_threadpool(authorize, request)
    if inspect.isawaitable(found):
        found = await found
    if found is None:
        raise Refused(401, "Sign in to use the syncstate panel.")
    if not isinstance(found, Viewer):
        raise TypeError(f"authorize must return a syncstate.web.Viewer or None, got {found!r}")
    return found


class CsrfGuard:
    """Makes and checks the CSRF tokens of one panel (one secret)."""

    def __init__(self, secret: bytes | None = None) -> None:
        # a random secret per panel when the host gives none: tokens then last as long as
        # the process (pass one secret to every worker of a multi-process deployment)
        self._secret = secret if secret else secrets.token_bytes(32)

    def __repr__(self) -> str:
        return "CsrfGuard(secret=***)"

    def token(self, viewer: Viewer) -> str:
        """The token the panel's forms carry for ``viewer``."""
        digest = hmac.new(self._secret, b"csrf\x1f" + viewer.user.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")

    def check(self, viewer: Viewer, given: str | None) -> None:
        """Refuse (403) unless ``given`` is ``viewer``'s token."""
        if not given or not hmac.compare_digest(given.encode(), self.token(viewer).encode()):
            raise Refused(
                403, "The form's security token is missing or wrong; reload the page and retry."
            )
