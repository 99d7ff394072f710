"""The recording page as an installable app: its web manifest and its service worker.

The service worker keeps a copy of the recording page and its scripts so the page opens without a
connection; notes made offline wait in the phone's IndexedDB (api/web/static/villager.js). It is
served from the site's root so that it may look after the recording page at ``/``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from api import i18n
from api.web.templating import WEB_DIR, page_language

router = APIRouter(include_in_schema=False)

SERVICE_WORKER = WEB_DIR / "pwa" / "sw.js"
ICON_SIZES = (192, 512)


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> JSONResponse:
    """The web manifest, with names in the page language (``?lang=`` or the remembered choice)."""
    lang = page_language(request)
    return JSONResponse(
        {
            "name": i18n.gettext("minsheng – tell the township", lang),
            "short_name": i18n.gettext("minsheng", lang),
            "description": i18n.gettext(
                "Record or type a suggestion; it is sent when there is a connection.", lang
            ),
            "lang": "en" if lang == "en" else "zh-CN",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#f6f7f9",
            "theme_color": "#b3261e",
            "icons": [
                {"src": f"/static/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any"}
                for n in ICON_SIZES
            ],
        },
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/sw.js")
def service_worker() -> FileResponse:
    """The service worker script (revalidated on every check, so a new version is picked up)."""
    return FileResponse(
        SERVICE_WORKER, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )
