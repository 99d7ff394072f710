"""Response bodies of the OpenAI-compatible endpoints, field for field as OpenAI sends them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ModelOut(BaseModel):
    """One model a client may name."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelListOut(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelOut]


class TranscriptionOut(BaseModel):
    """``response_format=json``."""

    text: str


class TranscriptionSegmentOut(BaseModel):
    """One segment of ``verbose_json``: times in seconds, Whisper's token ids and quality signals."""

    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float


class TranscriptionWordOut(BaseModel):
    """One timed word of ``verbose_json`` (with ``timestamp_granularities[]=word``)."""

    word: str
    start: float
    end: float


class TranscriptionVerboseOut(BaseModel):
    """``response_format=verbose_json``: ``segments`` unless only word timestamps were asked for,
    ``words`` when they were (a field left out is absent, not null)."""

    task: Literal["transcribe"] = "transcribe"
    language: str
    duration: float
    text: str
    segments: list[TranscriptionSegmentOut] | None = None
    words: list[TranscriptionWordOut] | None = None


class OpenAIErrorDetail(BaseModel):
    """What went wrong: a message for people, ``param`` the field at fault, ``code`` for programs."""

    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorOut(BaseModel):
    """Every error of the ``/v1`` endpoints."""

    error: OpenAIErrorDetail
