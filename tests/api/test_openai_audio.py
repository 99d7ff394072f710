"""OpenAI's own Python client against a real server (``minsheng serve``, embedded worker, real
Whisper): every response format, a language hint, a prompt, the upload limits, a bad token and
the model list. The limits are lowered for the module (5 s, 0.25 MB) so the committed clips
cross them: ``speech.wav`` (3.7 s, 160 KB) passes, ``voice_transport.ogg`` (6.8 s) is too long.
The last test uses an in-process app whose wait is shorter than any transcription (504).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from sqlalchemy import func, select

from models.db import make_engine, make_session_factory, unit_of_work
from models.jobs.tables import Job
from models.suggestions.tables import Suggestion
from models.transcriptions.tables import TranscriptionRequest
from tests.api.conftest import _context, create_staff_headers, make_client, staff_headers
from tests.conftest import DATA
from tests.server import Server, start_server

pytestmark = pytest.mark.slow

SPEECH = DATA / "speech.wav"  # "The street light is broken. <pause> Please fix it."
SEGMENT_FIELDS = {
    "id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob", "compression_ratio",
    "no_speech_prob",
}  # fmt: skip
SRT_TIME = r"\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d"
VTT_TIME = r"\d\d:\d\d:\d\d\.\d\d\d --> \d\d:\d\d:\d\d\.\d\d\d"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("openai"),
        weights_cache,
        env={"MINSHENG_MAX_AUDIO_SECONDS": "5", "MINSHENG_MAX_UPLOAD_MB": "0.25"},
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    token = create_staff_headers(server.database_url, "transcriber")["Authorization"].removeprefix("Bearer ")
    return openai.OpenAI(api_key=token, base_url=f"{server.url}/v1", max_retries=0, timeout=120)


def _transcribe(client: openai.OpenAI, path: Path = SPEECH, **params: Any) -> Any:
    with path.open("rb") as audio:
        return client.audio.transcriptions.create(model="whisper-1", file=audio, **params)


def _raw(client: openai.OpenAI, **params: Any) -> dict[str, Any]:
    """The JSON body as sent, to see which fields are there at all."""
    with SPEECH.open("rb") as audio:
        raw = client.audio.transcriptions.with_raw_response.create(model="whisper-1", file=audio, **params)
    body: dict[str, Any] = raw.http_response.json()
    return body


def _heard_the_note(text: str) -> None:
    assert re.search(r"street ?light is broken\. please fix it\.", text.lower()), text


def test_json_and_text(client: openai.OpenAI) -> None:
    _heard_the_note(_transcribe(client).text)
    text = _transcribe(client, response_format="text")
    assert isinstance(text, str) and text.endswith("\n")
    _heard_the_note(text)


def test_srt_and_vtt(client: openai.OpenAI) -> None:
    srt = _transcribe(client, response_format="srt")
    assert re.fullmatch(rf"1\n{SRT_TIME}\n[^\n]+\n\n(\d+\n{SRT_TIME}\n[^\n]+\n\n)*", srt), srt
    vtt = _transcribe(client, response_format="vtt")
    assert re.fullmatch(rf"WEBVTT\n\n({VTT_TIME}\n[^\n]+\n\n)+", vtt), vtt
    _heard_the_note(" ".join(srt.splitlines()[2::4]))


def test_verbose_json_with_words_and_segments(client: openai.OpenAI) -> None:
    result = _transcribe(client, response_format="verbose_json", timestamp_granularities=["word", "segment"])
    assert result.task == "transcribe" and result.language == "english"
    assert result.duration == pytest.approx(3.69, abs=0.02)
    _heard_the_note(result.text)
    assert result.segments and result.words
    assert [s.id for s in result.segments] == list(range(len(result.segments)))
    for segment in result.segments:
        assert 0 <= segment.start < segment.end <= result.duration + 0.01
        assert segment.tokens and segment.temperature == 0.0 and segment.avg_logprob < 0
        assert 0 <= segment.no_speech_prob < 0.5 and segment.compression_ratio > 0
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and all(w.start <= w.end for w in result.words)
    assert [w.word for w in result.words][-3:] == ["Please", "fix", "it."]
    broken = next(w for w in result.words if w.word == "broken.")
    please = result.words[-3]
    assert please.start - broken.end > 0.3  # the 0.7 s pause of the clip, between the sentences
    raw = _raw(client, response_format="verbose_json", timestamp_granularities=["word", "segment"])
    assert set(raw) == {"task", "language", "duration", "text", "segments", "words"}
    assert all(set(s) == SEGMENT_FIELDS for s in raw["segments"])
    assert all(set(w) == {"word", "start", "end"} for w in raw["words"])


def test_verbose_json_leaves_out_what_was_not_asked_for(client: openai.OpenAI) -> None:
    assert set(_raw(client, response_format="verbose_json")) == {
        "task", "language", "duration", "text", "segments",
    }  # fmt: skip
    words_only = _raw(client, response_format="verbose_json", timestamp_granularities=["word"])
    assert set(words_only) == {"task", "language", "duration", "text", "words"}


def test_a_language_hint_is_followed(client: openai.OpenAI) -> None:
    result = _transcribe(client, response_format="verbose_json", language="zh")
    assert result.language == "chinese"
    assert _transcribe(client, response_format="verbose_json", language="en").language == "english"


def test_a_prompt_steers_the_transcript(client: openai.OpenAI) -> None:
    # Whisper continues a prompt's style: written in capitals, the note comes back in capitals.
    shouted = _transcribe(client, prompt="THE STREETLIGHT IS BROKEN. PLEASE FIX IT.").text
    assert "BROKEN" in shouted, shouted
    assert "BROKEN" not in _transcribe(client).text


def test_a_recording_over_the_length_limit_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        _transcribe(client, DATA / "voice_transport.ogg")
    error = refused.value.body
    assert isinstance(error, dict) and error["code"] == "audio_too_long" and error["param"] is None
    assert "limit of 5 s" in error["message"]


def test_a_file_over_the_size_limit_is_413(client: openai.OpenAI, tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    big.write_bytes(SPEECH.read_bytes() + SPEECH.read_bytes()[44:])  # 320 KB of real speech
    with pytest.raises(openai.APIStatusError) as refused:
        _transcribe(client, big)
    assert refused.value.status_code == 413
    assert isinstance(refused.value.body, dict) and refused.value.body["code"] == "audio_too_large"


def test_a_bad_token_is_401(server: Server) -> None:
    stranger = openai.OpenAI(api_key="msk_" + "x" * 43, base_url=f"{server.url}/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        stranger.models.list()
    assert isinstance(refused.value.body, dict) and refused.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        _transcribe(stranger)


def test_models_lists_whisper_1(client: openai.OpenAI) -> None:
    models = {m.id: m for m in client.models.list()}
    assert set(models) == {"whisper-1", "whisper-base"}
    assert models["whisper-1"].owned_by == "minsheng" and models["whisper-1"].object == "model"
    assert client.models.retrieve("whisper-base").id == "whisper-base"


def test_nothing_is_kept_and_nothing_is_logged(client: openai.OpenAI, server: Server) -> None:
    _heard_the_note(_transcribe(client, prompt="A secret prompt about the streetlight.").text)
    engine = make_engine(server.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            for table in (TranscriptionRequest, Suggestion):  # the audio and the text are gone
                assert session.scalar(select(func.count()).select_from(table)) == 0
            assert session.scalar(select(func.count()).select_from(Job).where(Job.state != "done")) == 0
    finally:
        engine.dispose()
    log = server.log.read_text().lower()
    assert "please fix it" not in log and "secret prompt" not in log


def test_a_transcription_slower_than_the_wait_is_504_and_still_finishes(
    tmp_path: Path, weights_cache: Path
) -> None:
    with make_client(tmp_path, weights_cache, transcription_wait_seconds=0.01) as app:
        response = app.post(
            "/v1/audio/transcriptions",
            data={"model": "whisper-1"},
            files={"file": ("note.wav", SPEECH.read_bytes(), "audio/wav")},
            headers=staff_headers(app, "transcriber"),
        )
        assert response.status_code == 504, response.text
        assert response.json()["error"]["code"] == "timeout"
        assert response.headers["x-should-retry"] == "false"  # OpenAI's clients would send it again
        deadline = time.monotonic() + 60
        while True:
            with unit_of_work(_context(app).factory) as session:
                row = session.scalars(select(TranscriptionRequest)).one()
                state, audio, result = row.state, row.audio, row.result
            if state == "done" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert state == "done" and audio is None
        _heard_the_note(str((result or {}).get("text")))
