"""Security headers on every response, error pages and crashes included.

Pages may load scripts, styles, images and media only from this site (no inline scripts: put
JavaScript in api/web/static); inline ``style`` attributes are allowed. No site may frame a page.
The microphone (villagers record voice notes) and location are allowed for this site only.
``/docs`` and ``/redoc`` load Swagger UI / ReDoc from their CDN and get a looser policy.
Every response that is not one of our pages or static files (JSON, recordings, CSV) gets a
sandbox policy: bytes a villager sent can never run as a page of this site, whatever their type.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "font-src 'self' https://fonts.gstatic.com",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
# For responses that are data, not pages: no script, no plugin, no same-origin access, ever.
SANDBOX_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "microphone=(self), geolocation=(self), camera=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def user_content_headers(filename: str) -> dict[str, str]:
    """Headers for a response that carries bytes a villager sent (a recording, an export).

    ``attachment`` makes a browser that opens the address download the file instead of showing
    it; an ``<audio>`` element still plays it. The file name is ours (ASCII), never the uploader's.
    """
    safe = "".join(c for c in filename if c.isascii() and (c.isalnum() or c in "._-")) or "download"
    return {
        "Content-Disposition": f'attachment; filename="{safe}"',
        "Content-Security-Policy": SANDBOX_CSP,
        "X-Content-Type-Options": "nosniff",
    }


#: Our own scripts served outside /static: the service worker must sit at the root to look after
#: the recording page, and runs under the pages' policy (the data policy would forbid its fetches).
OWN_SCRIPTS = frozenset({"/sw.js"})


def _is_page(path: str, content_type: str) -> bool:
    """Our own rendered pages and static files; everything else is data."""
    return content_type.startswith("text/html") or path.startswith("/static/") or path in OWN_SCRIPTS


class SecurityHeaders:
    """ASGI middleware adding the headers (a response that already set one keeps its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if path in DOCS_PATHS:
                    csp = DOCS_CSP
                elif _is_page(path, headers.get("content-type", "")):
                    csp = CSP
                else:
                    csp = SANDBOX_CSP
                headers.setdefault("Content-Security-Policy", csp)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)
