"""The staff review page (server-rendered; a little JavaScript fetches and posts decisions)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request) -> HTMLResponse:
    """The review queue page."""
    return render(request, "review.html", {})
