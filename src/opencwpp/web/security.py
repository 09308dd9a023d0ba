"""Who may talk to the dashboard: loopback hosts only, or anyone holding the token.

Bound to loopback, requests must name a loopback host (a DNS-rebinding page cannot reach the
API through its own host name). Bound elsewhere, every request must carry the token: header
`Authorization: Bearer …` or `X-CWPP-Token`, or the `cwpp_token` cookie that `/login?token=…`
sets. Writes additionally need the `X-CWPP-Request` header, which a cross-site form cannot send.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

COOKIE = "cwpp_token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Next = Callable[[Request], Awaitable[Response]]


def is_loopback(host: str) -> bool:
    """Whether `host` (as given to --host) is a loopback address."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _host_name(request: Request) -> str:
    host = request.headers.get("host", "")
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def presented_token(request: Request) -> str:
    """The token the request carries, from a header or the cookie ('' when none)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-cwpp-token") or request.cookies.get(COOKIE, "")


class Guard:
    """The checks every request passes before any route runs."""

    def __init__(self, token: str | None, loopback_only: bool) -> None:
        self.token = token
        self.loopback_only = loopback_only

    def _token_ok(self, value: str) -> bool:
        return self.token is not None and hmac.compare_digest(
            value.encode("utf-8"), self.token.encode("utf-8")
        )

    async def __call__(self, request: Request, call_next: Next) -> Response:
        """Refuses foreign hosts, missing tokens and cross-site writes; adds security headers."""
        response = self._refusal(request)
        if response is None:
            response = await call_next(request)
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    def _refusal(self, request: Request) -> Response | None:
        host = _host_name(request)
        if self.loopback_only and host not in LOOPBACK_HOSTS and not host.startswith("127."):
            return PlainTextResponse("forbidden host", status_code=403)
        if self.token is not None:
            if request.url.path == "/login":
                given = request.query_params.get("token", "")
                if not self._token_ok(given):
                    return PlainTextResponse("invalid token", status_code=401)
                redirect = RedirectResponse("/", status_code=303)
                redirect.set_cookie(COOKIE, given, httponly=True, samesite="strict")
                return redirect
            if not self._token_ok(presented_token(request)):
                return PlainTextResponse(
                    "token required: open /login?token=… or send Authorization: Bearer …",
                    status_code=401,
                )
        if request.method not in SAFE_METHODS and request.headers.get("x-cwpp-request") != "1":
            return PlainTextResponse("missing X-CWPP-Request header", status_code=403)
        return None
