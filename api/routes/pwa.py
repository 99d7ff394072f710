"""The recording page as an installable app: its web manifest and its service worker.

The service worker keeps a copy of the recording page and its scripts so the page opens without a
connection; notes made offline wait in the phone's IndexedDB (api/web/static/villager.js). It is
served from the site's root so that it may look after the recording page at ``/``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from api.web.templating import WEB_DIR, page_language

router = APIRouter(include_in_schema=False)

SERVICE_WORKER = WEB_DIR / "pwa" / "sw.js"
ICON_SIZES = (192, 512)


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> JSONResponse:
    """The web manifest, with names in the page language (``?lang=`` or the remembered choice)."""
    en = page_language(request) == "en"
    return JSONResponse(
        {
            "name": "minsheng – tell the township" if en else "民声 · 给乡镇提建议",
            "short_name": "minsheng" if en else "民声",
            "description": "Record or type a suggestion; it is sent when there is a connection."
            if en
            else "录音或打字提建议，没有网络时先存在手机上，联网后自动发送。",
            "lang": "en" if en else "zh-CN",
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
