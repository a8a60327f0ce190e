"""The safety rules of ``gisrenew serve``, as one ASGI middleware and a request-body reader.

* **Access token** (when the server listens beyond this computer): every request carries it,
  in the ``X-Gisrenew-Access`` header (the page's API calls) or in the HttpOnly, SameSite=Strict
  cookie the page gets by opening the URL the command printed once (``/?access=TOKEN``, which
  answers with the cookie and a redirect to ``/`` so the token leaves the address bar).
* **Writes** (apply, save as candidate) carry the page's CSRF token in ``X-Gisrenew-Token``;
  every POST whose ``Origin`` or ``Sec-Fetch-Site`` says it comes from another site is refused.
* **Bodies**: JSON only (415), at most :data:`MAX_BODY` bytes (413), well-formed (400).
* **Headers** on every answer: a Content-Security-Policy allowing only this server's own
  scripts, ``nosniff``, no framing, no referrer; no CORS header is ever sent.

Tokens are compared with :func:`secrets.compare_digest`.
"""

from __future__ import annotations

import json
import secrets
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ACCESS_COOKIE",
    "ACCESS_HEADER",
    "CSRF_HEADER",
    "MAX_BODY",
    "BodyError",
    "Guard",
    "read_json",
    "same_token",
]

ACCESS_HEADER = "x-gisrenew-access"
ACCESS_COOKIE = "gisrenew_access"
CSRF_HEADER = "x-gisrenew-token"
MAX_BODY = 2 * 1024 * 1024  #: bytes of one request body

#: Only this server's files run; styles may be set by Leaflet; images are its own or data: URIs.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_SAFE_SITES = {"same-origin", "none"}


def same_token(given: str | None, expected: str) -> bool:
    """True when `given` is `expected` (compared in constant time)."""
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class Guard:
    """ASGI middleware: access token, cross-site and CSRF checks, security headers.

    Parameters
    ----------
    app : ASGI app
        The app it guards.
    access : str or None
        The access token every request must carry; ``None`` on loopback (no token).
    csrf : str
        The token the page receives in its ``<meta>`` and sends back on writes.
    writes : set of str
        The paths of the write actions.
    """

    def __init__(self, app: ASGIApp, *, access: str | None, csrf: str, writes: set[str]):
        self.app, self.access, self.csrf, self.writes = app, access, csrf, set(writes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(Request(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *_HEADERS]
            await send(message)

        if refusal is None:
            await self.app(scope, receive, send_with_headers)
        else:
            await refusal(scope, receive, send_with_headers)

    def _refusal(self, request: Request):
        """The response refusing `request`, or None when it may pass."""
        if self.access is not None:
            refusal = self._access_refusal(request)
            if refusal is not None:
                return refusal
        if request.method not in ("GET", "HEAD"):
            site = request.headers.get("sec-fetch-site")
            if site is not None and site not in _SAFE_SITES:
                return _refuse(403, "cross-site request refused: use the page this server shows")
            origin = request.headers.get("origin")
            if origin is not None and origin != _own_origin(request):
                return _refuse(403, "request from another site refused (Origin does not match)")
        if request.url.path in self.writes and not same_token(
            request.headers.get(CSRF_HEADER), self.csrf
        ):
            return _refuse(403, "a change to the project needs the page's token; reload the page")
        return None

    def _access_refusal(self, request: Request):
        assert self.access is not None
        if same_token(request.headers.get(ACCESS_HEADER), self.access):
            return None
        if same_token(_cookie(request, ACCESS_COOKIE), self.access):
            return None
        if request.url.path == "/" and same_token(request.query_params.get("access"), self.access):
            response = RedirectResponse(str(URL("/")), status_code=303)
            response.set_cookie(
                ACCESS_COOKIE, self.access, httponly=True, samesite="strict", path="/"
            )
            return response
        return _refuse(
            401, "this server needs its access token: open the URL `gisrenew serve` printed"
        )


def _cookie(request: Request, name: str) -> str | None:
    """One cookie of `request`, read strictly (a malformed Cookie header gives None)."""
    raw = request.headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # http.cookies raises CookieError on a malformed header
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


def _own_origin(request: Request) -> str:
    """``scheme://host[:port]`` of this server as the browser named it (the Host header)."""
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


class BodyError(Exception):
    """A request body refused before it is read as a sketch: HTTP `status` and `message`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


async def read_json(request: Request, limit: int = MAX_BODY) -> Any:
    """The request's JSON body, read at most `limit` bytes far.

    Raises
    ------
    BodyError
        415 when the content type is not JSON, 413 when the body is larger than `limit`,
        400 when it is not well-formed UTF-8 JSON.
    """
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise BodyError(415, "send the sketch as JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyError(413, f"the request is larger than {limit // (1024 * 1024)} MB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(413, f"the request is larger than {limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BodyError(
            400, f"the request is not well-formed JSON ({type(exc).__name__})"
        ) from None
