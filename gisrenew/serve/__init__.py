"""``gisrenew serve``: the interactive what-if page 口袋公园试算 on a local web server.

The planner draws a park on the city's coverage map and sees at once what it would change
(ratio before → after, land and households newly covered, districts, closed blind spots,
whether the park counts and why not); sketches can be compared, undone, saved as
candidate sites or applied to the project through the recompute.

* :func:`create_app` — the Starlette app around a :class:`gisrenew.whatif.WhatIfSession`
  (:mod:`gisrenew.serve.app`; the safety rules in :mod:`gisrenew.serve.guard`).
* :func:`run_server` — the app on uvicorn until Ctrl-C.
* :func:`is_loopback`, :func:`new_token`, :func:`page_url` — what the command needs.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Iterable

import uvicorn
from starlette.applications import Starlette

from gisrenew.serve.app import LOOPBACK_HOSTS, Session, create_app, static_files

__all__ = [
    "LOOPBACK_HOSTS",
    "Session",
    "allowed_hosts",
    "create_app",
    "is_loopback",
    "new_token",
    "page_url",
    "run_server",
    "static_files",
]


def is_loopback(host: str) -> bool:
    """True when `host` is this computer only (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh access token (``secrets.token_urlsafe``, 256 bits)."""
    return secrets.token_urlsafe(32)


def page_url(host: str, port: int, token: str | None = None) -> str:
    """The URL the command prints: the page, with the access token when there is one."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    url = f"http://{shown}:{port}/"
    return f"{url}?access={token}" if token else url


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> list[str]:
    """Host names the Host header may carry (against DNS rebinding).

    Loopback, the bound `host` and the `extra` names; for a wildcard bind (``0.0.0.0``,
    ``::``) this computer's own name and full name instead of the host.
    """
    names = [*LOOPBACK_HOSTS, *extra]
    if host in ("0.0.0.0", "::"):
        names += [socket.gethostname(), socket.getfqdn()]
    else:
        names.append(host)
    return list(dict.fromkeys(names))


def run_server(app: Starlette, host: str, port: int) -> None:
    """Serve `app` on `host`:`port` until Ctrl-C (uvicorn; no access log, so no token in logs)."""
    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, log_level="warning", lifespan="off"
    )
    uvicorn.Server(config).run()
