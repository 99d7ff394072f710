"""An OpenAI-compatible transcription API, so tools written for OpenAI's can use this server:
``POST /v1/audio/transcriptions`` and ``GET /v1/models``.

Only API tokens are accepted (``Authorization: Bearer msk_…``) of accounts holding the
``transcriber`` role (administrators too). A file is checked exactly as a villager's recording
is (size, format, length) and transcribed by the worker with the same Transcriber; the request
waits for the result up to MINSHENG_TRANSCRIPTION_WAIT_SECONDS. Nothing becomes a suggestion,
and the audio and text are deleted once the answer is sent (intake.transcription_job).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.accounts import TRANSCRIBER, NotAuthenticated, Staff
from api.auth import bearer_token, require_roles
from api.context import AppContext
from api.deps import ContextDep
from api.openai_errors import InvalidParameter, ModelNotFound, TranscriptionTimeout
from api.openai_schemas import (
    ModelListOut,
    ModelOut,
    OpenAIErrorOut,
    TranscriptionOut,
    TranscriptionSegmentOut,
    TranscriptionVerboseOut,
    TranscriptionWordOut,
)
from api.subtitles import Cue, srt, vtt
from api.upload import read_form
from intake import transcription_job
from intake.asr import SUPPORTED_LANGUAGES
from intake.transcription_job import TranscriptionOrder, TranscriptionResult
from intake.weights import WeightsMissing, find_source
from models.errors import N_, Unavailable

#: The model id of the installed weights, and the name OpenAI's clients use by default.
INSTALLED_MODEL = "whisper-base"
ALIAS = "whisper-1"
OWNER = "minsheng"
RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
GRANULARITIES = ("word", "segment")
#: What ``verbose_json`` says for each language code (OpenAI names the language in English).
LANGUAGE_NAMES = {"zh": "chinese", "en": "english"}
MAX_PROMPT_CHARS = 2000
MAX_ECHO_CHARS = 100  # of a client's value quoted back in an error message
_FIRST_POLL_SECONDS, _MAX_POLL_SECONDS = 0.05, 0.5


async def api_token_only(request: Request) -> None:
    """These endpoints take an API token, never a browser's session (whose forms need CSRF tokens)."""
    if bearer_token(request) is None:
        raise NotAuthenticated(
            "This API needs an API token: send it as 'Authorization: Bearer msk_…' "
            "(an administrator makes one with `minsheng create-token`)."
        )


router = APIRouter(
    prefix="/v1",
    tags=["OpenAI-compatible"],
    dependencies=[Depends(api_token_only)],
    responses={401: {"model": OpenAIErrorOut}, 403: {"model": OpenAIErrorOut}},
)
TranscriberDep = Annotated[Staff, Depends(require_roles(TRANSCRIBER))]


class WorkerUnavailable(Unavailable):
    """No worker runs jobs for this server (MINSHENG_WORKER_ENABLED=false and no broker)."""

    kind = "WorkerUnavailable"


# --- models --------------------------------------------------------------------------------------


def installed_models() -> list[ModelOut]:
    """The installed Whisper weights under their own name and OpenAI's (none if they are missing)."""
    try:
        created = int(find_source().part1_dir.stat().st_mtime)
    except (WeightsMissing, OSError):
        return []
    return [ModelOut(id=name, created=created, owned_by=OWNER) for name in (INSTALLED_MODEL, ALIAS)]


def _model(name: str) -> ModelOut:
    for model in installed_models():
        if model.id == name:
            return model
    known = ", ".join(m.id for m in installed_models()) or "none (the Whisper weights are not installed)"
    raise ModelNotFound(
        "The model '%(name)s' does not exist here. Models: %(known)s.",
        name=name[:MAX_ECHO_CHARS],
        known=known,
    )


@router.get("/models", response_model=ModelListOut)
async def list_models(_staff: TranscriberDep) -> ModelListOut:
    """The models a transcription may name."""
    return ModelListOut(data=installed_models())


@router.get("/models/{model}", response_model=ModelOut, responses={404: {"model": OpenAIErrorOut}})
async def retrieve_model(model: str, _staff: TranscriberDep) -> ModelOut:
    """One model, or 404 ``model_not_found``."""
    return _model(model)


# --- transcriptions ------------------------------------------------------------------------------

_FORM_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "model"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "A recording."},
                        "model": {"type": "string", "enum": [ALIAS, INSTALLED_MODEL]},
                        "language": {"type": "string", "enum": ["zh", "en"]},
                        "prompt": {"type": "string"},
                        "response_format": {"type": "string", "enum": list(RESPONSE_FORMATS)},
                        "temperature": {"type": "number", "minimum": 0, "maximum": 1},
                        "timestamp_granularities[]": {
                            "type": "array",
                            "items": {"type": "string", "enum": list(GRANULARITIES)},
                        },
                    },
                }
            }
        },
    }
}


@dataclass(frozen=True)
class TranscriptionForm:
    """The form fields of a transcription request, checked."""

    response_format: str
    order: TranscriptionOrder
    segments: bool  # verbose_json shows segments (unless only word timestamps were asked for)


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    return value.strip() or None


def _choice(value: str | None, name: str, choices: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value not in choices:
        raise InvalidParameter(
            "'%(value)s' is not a valid %(name)s; use one of: %(choices)s.",
            name,
            value=value[:MAX_ECHO_CHARS],
            name=name,
            choices=", ".join(choices),
        )
    return value


def _temperature(value: str | None) -> float:
    if value is None:
        return 0.0
    try:
        temperature = float(value)
    except ValueError:
        temperature = math.nan
    if not 0.0 <= temperature <= 1.0:  # also refuses nan
        raise InvalidParameter("The temperature must be a number from 0 to 1.", "temperature")
    return temperature


def read_fields(form: FormData) -> TranscriptionForm:
    """Check every field but the file: model, language, prompt, temperature, format, granularities."""
    model = _text(form, N_("model"))
    if model is None:
        raise InvalidParameter("Name the model, e.g. model=%(alias)s.", "model", alias=ALIAS)
    _model(model)
    language = (_text(form, N_("language")) or "").lower()
    if language not in ("", "auto", *SUPPORTED_LANGUAGES):
        raise InvalidParameter(
            "The language '%(language)s' is not supported; use %(supported_languages)s "
            "(ISO-639-1), or leave it out to detect it.",
            "language",
            language=language[:MAX_ECHO_CHARS],
            supported_languages=" or ".join(SUPPORTED_LANGUAGES),
        )
    prompt = _text(form, N_("prompt"))
    if prompt is not None and len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidParameter(
            "The prompt is too long (%(prompt)s characters; at most %(max_prompt_chars)s).",
            "prompt",
            prompt=len(prompt),
            max_prompt_chars=MAX_PROMPT_CHARS,
        )
    response_format = _choice(_text(form, N_("response_format")), "response_format", RESPONSE_FORMATS, "json")
    granularities = {
        _choice(g.strip() if isinstance(g, str) else "", "timestamp_granularities[]", GRANULARITIES, "")
        for name in ("timestamp_granularities[]", "timestamp_granularities")
        for g in form.getlist(name)
    }
    if granularities and response_format != "verbose_json":
        raise InvalidParameter(
            "timestamp_granularities[] needs response_format=verbose_json.", "timestamp_granularities[]"
        )
    order = TranscriptionOrder(
        language=language if language in SUPPORTED_LANGUAGES else None,
        prompt=prompt,
        temperature=_temperature(_text(form, N_("temperature"))),
        word_timestamps="word" in granularities,
    )
    return TranscriptionForm(response_format, order, segments=not granularities or "segment" in granularities)


async def _wait(context: AppContext, request_id: int) -> TranscriptionResult:
    """Poll the request until the worker is done with it; TranscriptionTimeout after the wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + context.settings.transcription_wait_seconds
    delay = _FIRST_POLL_SECONDS
    while True:
        found = await run_in_threadpool(transcription_job.outcome, context.factory, request_id)
        if found is None:
            raise transcription_job.TranscriptionFailed("The transcription was lost. Please try again.")
        if found.finished:
            await run_in_threadpool(transcription_job.forget, context.factory, request_id)
            return transcription_job.result_of(found)
        left = deadline - loop.time()
        if left <= 0:
            raise TranscriptionTimeout(
                "The transcription did not finish within %(transcription_wait_seconds)s seconds "
                "(the server is busy); its result will not be kept. Try again later.",
                transcription_wait_seconds=format(context.settings.transcription_wait_seconds, "g"),
            )
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 2, _MAX_POLL_SECONDS)


def render(result: TranscriptionResult, fields: TranscriptionForm) -> Response:
    """The answer in the format asked for, as OpenAI shapes it."""
    cues = [Cue(s.start, s.end, s.text) for s in result.segments]
    if fields.response_format == "text":
        return PlainTextResponse(result.text + "\n")
    if fields.response_format == "srt":
        return PlainTextResponse(srt(cues))
    if fields.response_format == "vtt":
        return PlainTextResponse(vtt(cues))
    if fields.response_format == "json":
        return JSONResponse(TranscriptionOut(text=result.text).model_dump())
    verbose = TranscriptionVerboseOut(
        language=LANGUAGE_NAMES.get(result.language, result.language),
        duration=result.duration,
        text=result.text,
        segments=[
            TranscriptionSegmentOut(
                id=n,
                seek=s.seek,
                start=s.start,
                end=s.end,
                text=s.text,
                tokens=list(s.tokens),
                temperature=s.temperature,
                avg_logprob=s.avg_logprob,
                compression_ratio=s.compression_ratio,
                no_speech_prob=s.no_speech_prob,
            )
            for n, s in enumerate(result.segments)
        ]
        if fields.segments
        else None,
        words=[TranscriptionWordOut(word=w.word, start=w.start, end=w.end) for w in result.words]
        if fields.order.word_timestamps
        else None,
    )
    return JSONResponse(verbose.model_dump(exclude_none=True))


@router.post(
    "/audio/transcriptions",
    openapi_extra=_FORM_SCHEMA,
    response_model=TranscriptionVerboseOut | TranscriptionOut,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        400: {"model": OpenAIErrorOut},
        404: {"model": OpenAIErrorOut},
        413: {"model": OpenAIErrorOut},
        503: {"model": OpenAIErrorOut},
        504: {"model": OpenAIErrorOut},
    },
)
async def create_transcription(request: Request, context: ContextDep, _staff: TranscriberDep) -> Response:
    """Transcribe a recording (multipart: ``file``, ``model``, optional ``language``, ``prompt``,
    ``response_format``, ``temperature``, ``timestamp_granularities[]``), as OpenAI's endpoint does.

    The same limits as a villager's upload apply (413 past the size, 400 for a file that is not a
    recording or is too long or short); 504 if the worker takes longer than the wait.
    """
    settings = context.settings
    form = await read_form(request, settings.max_upload_bytes)
    try:
        fields = read_fields(form)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidParameter("Attach the recording as the form's 'file'.", "file")
        staged = await run_in_threadpool(context.store.stage, upload.file, settings.max_upload_bytes)
    finally:
        await form.close()
    info = await run_in_threadpool(transcription_job.check_upload, staged, context.limits)
    if not (settings.embedded_worker or settings.broker_url):
        staged.unlink(missing_ok=True)
        raise WorkerUnavailable(
            "This server runs no worker (MINSHENG_WORKER_ENABLED=false and no broker), "
            "so it cannot transcribe."
        )
    request_id = await run_in_threadpool(
        transcription_job.accept,
        context.factory,
        staged,
        info,
        fields.order,
        max_attempts=settings.job_max_attempts,
    )
    return render(await _wait(context, request_id), fields)
