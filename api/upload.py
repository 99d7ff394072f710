"""Reading a form body with the size limit enforced while it streams in."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from starlette.datastructures import FormData
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request

from intake.audio import too_large
from models.errors import InvalidInput

# Room for the multipart boundaries and the small text fields around the file.
FORM_OVERHEAD_BYTES = 256 * 1024


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large(limit - FORM_OVERHEAD_BYTES)
        yield chunk


async def read_form(request: Request, max_file_bytes: int) -> FormData:
    """Parse a multipart or urlencoded body; refuse it as soon as it passes the limit.

    A declared Content-Length over the limit is refused before a byte of the body is read.
    File parts are spooled to disk by Starlette beyond 1 MB, never held whole in memory.
    """
    limit = max_file_bytes + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(max_file_bytes)
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("multipart/form-data"):
            parser = MultiPartParser(request.headers, _limited(request, limit), max_files=1, max_fields=20)
            return await parser.parse()
        if content_type.startswith("application/x-www-form-urlencoded"):
            return await FormParser(request.headers, _limited(request, limit)).parse()
    except MultiPartException as exc:
        raise InvalidInput("The form could not be read: %(message2)s", message2=exc.message) from exc
    raise InvalidInput(
        "Send the suggestion as a form (multipart/form-data) with an 'audio' file or a 'text' field."
    )
