"""The pipeline's stages on a real database, the shipped seed classifier, a local audio store and
real Whisper: where a suggestion ends up, why it goes to review, and that a retried stage stores
nothing twice."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from classify.registry import ClassifierRegistry
from intake.asr import UNSURE_WORD_PROBABILITY, Transcriber
from intake.audio import AudioLimits
from intake.engine_faster import FasterWhisperEngine
from intake.pipeline import NO_SPEECH, LazyTranscriber, Pipeline, RoutingPolicy
from intake.storage import LocalAudioStore
from intake.submission import Desk, Submitter
from intake.weights import ensure_base_model
from models.consultation import flow as consultation
from models.consultation import queries as consultation_queries
from models.consultation.words import Stance
from models.db import make_engine, make_session_factory, unit_of_work
from models.directory import queries as directory
from models.reviews import classifiers
from models.suggestions import lifecycle, queries, reasons
from models.suggestions.tables import Event, Prediction, Transcript
from models.taxonomy import LABELS, category
from models.themes import store as theme_store
from models.vocabulary import Channel, Status
from tests.databases import TestDatabases

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def classifier_root(tmp_path_factory: pytest.TempPathFactory, test_databases: TestDatabases) -> Path:
    """A registry directory holding the trained seed model, trained once for this module.

    Each test's registry points at this directory on its own fresh database, so it registers the
    same artefact there instead of training again (as a second node of a deployment would).
    """
    root = tmp_path_factory.mktemp("classifiers")
    engine = make_engine(test_databases.new())
    ClassifierRegistry(make_session_factory(engine), root).ensure_active()
    engine.dispose()
    return root


@pytest.fixture(scope="module")
def whisper(weights_cache: Path) -> Transcriber:
    """The real Whisper base transcriber the suite uses (int8 on the CPU), loaded once per module."""
    return Transcriber(
        FasterWhisperEngine(ensure_base_model(weights_cache), compute_type="int8", cpu_threads=2)
    )


@dataclass
class Intake:
    """A desk that takes suggestions in and the pipeline that processes them, on one database."""

    factory: sessionmaker[Session]
    desk: Desk
    classifiers: ClassifierRegistry
    speech: LazyTranscriber
    store: LocalAudioStore

    def pipeline(self, policy: RoutingPolicy | None = None) -> Pipeline:
        """A pipeline over this intake's parts (default routing policy unless one is given)."""
        return Pipeline(
            self.factory,
            self.store,
            self.speech,
            self.classifiers,
            limits=AudioLimits(),
            policy=policy or RoutingPolicy(),
        )

    def text(self, text: str, village: str | None = None) -> int:
        """A typed suggestion as the desk stores it (status received); returns its id."""
        return self.desk.submit_text(text, Submitter(village=village)).id

    def voice(self, recording: Path, language: str = "auto") -> int:
        """A voice note as the desk stores it (recording in the audio store); returns its id."""
        staged = self.store.incoming / f"up-{uuid.uuid4().hex}"
        shutil.copyfile(recording, staged)
        return self.desk.submit_audio(staged, Submitter(), language=language).id


def _intake(
    factory: sessionmaker[Session], root: Path, tmp_path: Path, build: Callable[[], Transcriber]
) -> Intake:
    classifiers = ClassifierRegistry(factory, root)
    classifiers.ensure_active()
    store = LocalAudioStore(tmp_path / "audio")
    return Intake(factory, Desk(factory, store, AudioLimits()), classifiers, LazyTranscriber(build), store)


@pytest.fixture()
def bare_intake(
    db_factory: sessionmaker[Session], classifier_root: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Intake:
    """An intake on a fresh database without any departments or routing rules.

    Whisper is loaded only if a stage asks the LazyTranscriber for it, so ``speech.loaded`` tells
    whether a test's suggestions needed the speech model at all.
    """
    return _intake(db_factory, classifier_root, tmp_path, lambda: request.getfixturevalue("whisper"))


@pytest.fixture()
def intake(bare_intake: Intake) -> Intake:
    """An intake on a fresh database with the default departments and routing rules, as served."""
    with unit_of_work(bare_intake.factory) as session:
        directory.seed_departments(session)
    return bare_intake


@dataclass(frozen=True)
class Stored:
    """What the database holds about one suggestion after the pipeline ran."""

    status: str
    text: str | None
    language: str | None
    category: str | None
    category_source: str | None
    confidence: float | None
    department: str | None
    review_reason: str | None
    transcripts: int
    predictions: int
    events: list[str]  # event kinds, oldest first


def stored(factory: sessionmaker[Session], suggestion_id: int) -> Stored:
    with factory() as session:
        s = queries.get_suggestion(session, suggestion_id)

        def count(model: type[Transcript] | type[Prediction]) -> int:
            n = session.scalar(select(func.count()).select_from(model).where(model.suggestion_id == s.id))
            return int(n or 0)

        events = session.scalars(select(Event.kind).where(Event.suggestion_id == s.id).order_by(Event.id))
        return Stored(
            status=s.status,
            text=s.text,
            language=s.language,
            category=s.category,
            category_source=s.category_source,
            confidence=s.confidence,
            department=s.department.code if s.department is not None else None,
            review_reason=reasons.english(s.review_reason),  # as written, in English
            transcripts=count(Transcript),
            predictions=count(Prediction),
            events=list(events),
        )


def transcript_of(factory: sessionmaker[Session], suggestion_id: int) -> Transcript:
    with factory() as session:
        transcript = queries.transcript_for(session, suggestion_id)
        assert transcript is not None
        return transcript


def duplicate_of(factory: sessionmaker[Session], suggestion_id: int) -> int | None:
    with factory() as session:
        link = theme_store.duplicate_link(session, suggestion_id)
        return link.duplicate_of_id if link is not None else None


# ---- text suggestions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("村里又停电了，晚上一片漆黑，冰箱里的菜都坏了。", "power"),
        (
            "The bus to the township only comes twice a day and the road to the stop has no pavement.",
            "transport",
        ),
        ("河边的养殖场把污水直接排进河里，鱼都死了，臭得不得了。", "environment"),
        ("我家的老房子墙体开裂，下雨就漏水，申请危房改造。", "urban_construction"),
        ("My grandmother's pension has not been paid for two months.", "other"),
    ],
)
def test_a_text_suggestion_is_classified_and_routed_to_its_categorys_department(
    intake: Intake, text: str, expected: str
) -> None:
    sid = intake.text(text)
    intake.pipeline().process(sid)

    s = stored(intake.factory, sid)
    assert (s.status, s.category, s.category_source) == (Status.ROUTED, expected, "model")
    assert s.department == category(expected).department.code
    assert s.confidence is not None and s.confidence >= RoutingPolicy().min_classifier_confidence
    assert s.review_reason is None
    assert (s.transcripts, s.predictions) == (0, 1)
    assert s.events == ["received", "classified", "routed"]
    assert not intake.speech.loaded  # typed text never loads the speech model
    with intake.factory() as session:
        [prediction] = session.scalars(select(Prediction).where(Prediction.suggestion_id == sid))
        active = classifiers.active_classifier(session)
        assert active is not None and prediction.classifier_version_id == active.id
        assert (prediction.label, prediction.confidence) == (expected, s.confidence)
        assert sorted(prediction.probabilities) == sorted(LABELS)


def test_a_village_with_its_own_rule_gets_its_own_department(intake: Intake) -> None:
    with unit_of_work(intake.factory) as session:
        directory.set_routing_rule(
            session, actor="admin", now=T0, category="power", village="东村", department_code="general_office"
        )
    text = "村里又停电了，晚上一片漆黑，冰箱里的菜都坏了。"
    east, west = intake.text(text, village="东村"), intake.text("西村也停电了，路灯全黑了。", village="西村")
    pipeline = intake.pipeline()
    for sid in (east, west):
        pipeline.process(sid)
    assert (stored(intake.factory, east).department, stored(intake.factory, east).status) == (
        "general_office",
        Status.ROUTED,
    )
    assert stored(intake.factory, west).department == category("power").department.code


@pytest.mark.parametrize("margin", [0.01, -0.01], ids=["below-threshold", "above-threshold"])
def test_an_uncertain_category_goes_to_review_with_the_reason(intake: Intake, margin: float) -> None:
    """The route stage compares the stored classifier confidence with the policy's threshold.

    The seed model is confident on almost any text, so the threshold is set just above (or just
    below) the confidence it really gave this ambiguous note, as a stricter township would.
    """
    sid = intake.text("路灯下面的垃圾车")  # street light + rubbish truck: no clear category
    first = intake.pipeline()
    first.classify(sid)
    confidence = stored(intake.factory, sid).confidence
    assert confidence is not None and confidence < 0.9  # the seed model really is unsure here

    intake.pipeline(RoutingPolicy(min_classifier_confidence=confidence + margin)).route(sid)

    s = stored(intake.factory, sid)
    if margin > 0:
        assert s.status == Status.NEEDS_REVIEW
        assert s.review_reason == f"The category is uncertain (confidence {confidence:.2f})."
        assert s.events == ["received", "classified", "needs_review"]
        with intake.factory() as session:
            event = queries.history(session, sid)[-1]
            assert reasons.english(event.detail["reason"]) == s.review_reason
            assert event.detail["department"] == s.department  # where it would have gone
    else:
        assert (s.status, s.review_reason) == (Status.ROUTED, None)
    assert s.department == category(s.category or "").department.code


def test_a_category_no_department_handles_goes_to_review(bare_intake: Intake) -> None:
    sid = bare_intake.text("村里又停电了，晚上一片漆黑，冰箱里的菜都坏了。")
    bare_intake.pipeline().process(sid)
    s = stored(bare_intake.factory, sid)
    assert (s.status, s.category, s.department) == (Status.NEEDS_REVIEW, "power", None)
    assert s.review_reason == "No department handles the category 'power'."


def test_repeating_every_stage_of_a_repeated_text_stores_each_thing_once(intake: Intake) -> None:
    """A job retried after a crash runs its stages again: nothing may be stored a second time."""
    text = "村口的路灯坏了一个多月了，晚上走路看不见，请尽快修好。"
    original = intake.text(text, village="东村")
    pipeline = intake.pipeline()
    pipeline.process(original)
    repeat = intake.text("村口路灯坏了一个多月，晚上走路看不见，请快点修好。", village="东村")
    for stage in (pipeline.transcribe, pipeline.classify, pipeline.check_duplicate, pipeline.route):
        stage(repeat)
        stage(repeat)
    pipeline.process(repeat)
    pipeline.process(original)

    s = stored(intake.factory, repeat)
    assert s.status == Status.ROUTED
    assert (s.transcripts, s.predictions) == (0, 1)
    assert Counter(s.events) == {"received": 1, "classified": 1, "duplicate_suspected": 1, "routed": 1}
    assert duplicate_of(intake.factory, repeat) == original
    o = stored(intake.factory, original)
    assert (o.predictions, o.events) == (1, ["received", "classified", "routed"])


# ---- duplicates ------------------------------------------------------------------------------------


def test_a_repeat_of_an_open_suggestion_from_the_same_village_is_flagged_and_still_routed(
    intake: Intake,
) -> None:
    pipeline = intake.pipeline()
    original = intake.text("河边的养殖场把污水直接排进河里，鱼都死了。", village="东村")
    pipeline.process(original)
    repeat = intake.text("河边养殖场的污水直接排进河里，鱼都死光了。", village="东村")
    elsewhere = intake.text("河边养殖场的污水直接排进河里，鱼都死光了。", village="西村")
    unrelated = intake.text("村里的公交车一天只有两班，希望增加班次。", village="东村")
    for sid in (repeat, elsewhere, unrelated):
        pipeline.process(sid)

    assert duplicate_of(intake.factory, repeat) == original
    assert duplicate_of(intake.factory, elsewhere) is None  # another village: not the same issue
    assert duplicate_of(intake.factory, unrelated) is None  # same village, another issue
    s = stored(intake.factory, repeat)
    assert (s.status, s.department) == (Status.ROUTED, "ecology_bureau")  # a flag, not a decision
    with intake.factory() as session:
        [event] = [e for e in queries.history(session, repeat) if e.kind == "duplicate_suspected"]
        assert event.detail["duplicate_of"] == original and event.detail["matched_on"] == "village"


def test_a_repeat_of_a_closed_suggestion_is_not_flagged(intake: Intake) -> None:
    pipeline = intake.pipeline()
    original = intake.text("河边的养殖场把污水直接排进河里，鱼都死了。", village="东村")
    pipeline.process(original)
    with unit_of_work(intake.factory) as session:
        lifecycle.dispatch(session, original, actor="admin", now=T0)
        lifecycle.accept(session, original, actor="zhang", now=T0)
        lifecycle.start(session, original, actor="zhang", now=T0)
        lifecycle.resolve(session, original, actor="zhang", now=T0, result_note="已关停排污口")
        lifecycle.close(session, original, actor="admin", now=T0)
    repeat = intake.text("河边养殖场的污水直接排进河里，鱼都死光了。", village="东村")
    pipeline.process(repeat)
    assert duplicate_of(intake.factory, repeat) is None
    assert stored(intake.factory, repeat).status == Status.ROUTED


# ---- stages that must leave a suggestion alone -----------------------------------------------------


def test_later_stages_wait_for_classification_and_transcription_skips_typed_text(intake: Intake) -> None:
    sid = intake.text("村里又停电了，晚上一片漆黑。", village="东村")
    pipeline = intake.pipeline()
    pipeline.transcribe(sid)
    pipeline.check_duplicate(sid)
    pipeline.route(sid)
    s = stored(intake.factory, sid)
    assert (s.status, s.category, s.department, s.transcripts, s.predictions) == (
        Status.RECEIVED,
        None,
        None,
        0,
        0,
    )
    assert s.events == ["received"]
    assert not intake.speech.loaded


def test_a_suggestion_staff_already_took_over_is_not_processed_again(intake: Intake) -> None:
    """A late retry of the job must not reclassify or reroute what a department already holds."""
    sid = intake.text("村里又停电了，晚上一片漆黑，冰箱里的菜都坏了。")
    pipeline = intake.pipeline()
    pipeline.process(sid)
    with unit_of_work(intake.factory) as session:
        lifecycle.dispatch(session, sid, actor="admin", now=T0, department_code="general_office")
    before = stored(intake.factory, sid)
    pipeline.process(sid)
    for stage in (pipeline.transcribe, pipeline.classify, pipeline.check_duplicate, pipeline.route):
        stage(sid)
    assert stored(intake.factory, sid) == before
    assert (before.status, before.department, before.predictions) == (Status.DISPATCHED, "general_office", 1)


def test_a_suggestion_in_review_is_left_to_staff(intake: Intake) -> None:
    sid = intake.text("村里又停电了，晚上一片漆黑，冰箱里的菜都坏了。")
    intake.pipeline(RoutingPolicy(min_classifier_confidence=1.01)).process(sid)
    before = stored(intake.factory, sid)
    assert before.status == Status.NEEDS_REVIEW
    intake.pipeline().process(sid)  # the job retried under the ordinary policy
    assert stored(intake.factory, sid) == before


def test_a_voice_note_given_up_on_keeps_its_recording_and_is_never_transcribed(
    intake: Intake, data_dir: Path
) -> None:
    sid = intake.voice(data_dir / "speech.wav")
    pipeline = intake.pipeline()
    pipeline.give_up(sid, "ffmpeg crashed " + "x" * 2000)
    pipeline.process(sid)
    s = stored(intake.factory, sid)
    assert (s.status, s.text, s.transcripts, s.predictions) == (Status.FAILED, None, 0, 0)
    assert s.events == ["received", "failed"]
    assert s.review_reason is not None and "the recording is kept" in s.review_reason
    assert "ffmpeg crashed" in s.review_reason and len(s.review_reason) < 500
    assert not intake.speech.loaded  # skipped before the speech model was even needed
    with intake.factory() as session:
        audio = queries.get_suggestion(session, sid).audio
        assert audio is not None
        assert intake.store.read_bytes(audio.path) == (data_dir / "speech.wav").read_bytes()
        assert len(queries.history(session, sid)[-1].detail["error"]) == 1000


# ---- voice notes through real Whisper --------------------------------------------------------------


@pytest.mark.slow
def test_a_voice_note_is_transcribed_classified_and_routed_once_even_when_every_stage_repeats(
    intake: Intake, data_dir: Path
) -> None:
    sid = intake.voice(data_dir / "voice_power.ogg")
    pipeline = intake.pipeline()
    for stage in (pipeline.transcribe, pipeline.classify, pipeline.check_duplicate, pipeline.route):
        stage(sid)
        stage(sid)
    pipeline.process(sid)

    s = stored(intake.factory, sid)
    assert (s.status, s.category, s.department) == (Status.ROUTED, "power", "power_station")
    assert (s.transcripts, s.predictions) == (1, 1)
    assert s.events == ["received", "transcribed", "classified", "routed"]
    transcript = transcript_of(intake.factory, sid)
    assert s.text == transcript.text and "power cut" in transcript.text
    assert s.language == transcript.language == "en"
    assert transcript.confidence >= RoutingPolicy().min_transcript_confidence
    assert transcript.engine == "faster-whisper" and transcript.segments


@pytest.mark.slow
def test_a_recording_whisper_hears_poorly_goes_to_review_with_the_reason(
    intake: Intake, data_dir: Path
) -> None:
    """speech.amr is the street-light clip at 8 kHz narrow band, which Whisper base hears poorly
    (tests/data/README.md)."""
    sid = intake.voice(data_dir / "speech.amr")
    intake.pipeline().process(sid)
    transcript = transcript_of(intake.factory, sid)
    assert transcript.text and transcript.confidence < RoutingPolicy().min_transcript_confidence
    s = stored(intake.factory, sid)
    assert s.status == Status.NEEDS_REVIEW
    assert s.review_reason is not None
    assert s.review_reason.startswith(
        f"The speech was hard to understand (transcript confidence {transcript.confidence:.2f})."
    )
    assert s.events[:3] == ["received", "transcribed", "classified"] and s.events[-1] == "needs_review"
    assert (s.transcripts, s.predictions) == (1, 1)


@pytest.mark.slow
def test_each_heard_word_is_stored_with_its_probability_and_the_unsure_share(
    intake: Intake, data_dir: Path
) -> None:
    """The narrow-band street-light clip is heard with more unsure words than the clean note."""
    shares = {}
    for name in ("speech.amr", "voice_power.ogg"):
        sid = intake.voice(data_dir / name)
        intake.pipeline().transcribe(sid)
        transcript = transcript_of(intake.factory, sid)
        words = [w for seg in transcript.segments for w in seg["words"]]
        assert words and all(0.0 <= w["probability"] <= 1.0 and w["start"] <= w["end"] for w in words)
        for seg in transcript.segments:
            assert "".join(w["word"] for w in seg["words"]).replace(" ", "") == seg["text"].replace(" ", "")
            assert "tokens" not in seg  # decoder details are not stored
        unsure = sum(w["probability"] < UNSURE_WORD_PROBABILITY for w in words if w["word"].strip())
        assert transcript.unsure_word_share == round(unsure / len([w for w in words if w["word"].strip()]), 4)
        shares[name] = transcript.unsure_word_share
    assert shares["speech.amr"] > shares["voice_power.ogg"]


@pytest.mark.slow
@pytest.mark.parametrize(("requested", "language"), [("auto", None), ("zh", "zh")])
def test_a_silent_recording_goes_to_review_as_no_speech(
    intake: Intake, data_dir: Path, requested: str, language: str | None
) -> None:
    sid = intake.voice(data_dir / "silence.wav", language=requested)
    pipeline = intake.pipeline()
    pipeline.process(sid)
    pipeline.process(sid)
    s = stored(intake.factory, sid)
    assert (s.status, s.review_reason) == (Status.NEEDS_REVIEW, NO_SPEECH.english())
    assert (s.text, s.category, s.department) == ("", None, None)
    assert s.language == language  # a forced language is passed to Whisper; auto detects none here
    assert (s.transcripts, s.predictions) == (1, 0)
    assert s.events == ["received", "transcribed", "needs_review"]
    assert transcript_of(intake.factory, sid).confidence == 0.0


# ---- opinions on a consultation topic ---------------------------------------------------------------


def opinion(
    intake: Intake, code: str, text: str, village: str | None = None, clause: int | None = None
) -> int:
    """A typed opinion on the topic as the public page stores it (consultation channel, linked)."""
    with intake.factory() as session:
        attach = consultation.opinion_link(session, code, clause)
    return intake.desk.submit_text(
        text, Submitter(village=village), channel=Channel.CONSULTATION, attach=attach,
        about={"topic": code, "clause": clause},
    ).id  # fmt: skip


def test_an_opinion_stays_with_its_topic_neither_routed_nor_checked_for_duplicates(intake: Intake) -> None:
    """The same words as an open suggestion from the same village: an ordinary repeat would be flagged
    and routed; as an opinion they are stance-classified and recorded on the topic, and later
    suggestions are never flagged as repeats of an opinion."""
    pipeline = intake.pipeline()
    words = "河边的养殖场把污水直接排进河里，鱼都死了，不同意再扩建养殖场。"
    original = intake.text(words, village="东村")
    pipeline.process(original)
    with unit_of_work(intake.factory) as session:
        topic = consultation.publish(session, title="养殖场扩建", description=None, actor="zhou", now=T0)
        topic_id, code = topic.id, topic.short_code
    said = opinion(intake, code, words, village="东村")
    pipeline.process(said)
    pipeline.process(said)  # a retried job changes nothing

    s = stored(intake.factory, said)
    assert (s.status, s.category, s.department, s.review_reason) == (Status.RECORDED, None, None, None)
    assert (s.predictions, s.events) == (0, ["received", "opinion_recorded"])
    assert duplicate_of(intake.factory, said) is None
    with intake.factory() as session:
        [(stored_opinion, _)] = consultation_queries.opinions(session, topic_id)
        assert (stored_opinion.suggestion_id, stored_opinion.stance) == (said, Stance.OPPOSE)

    later = intake.text(words, village="东村")  # an ordinary suggestion after the opinion
    pipeline.process(later)
    assert duplicate_of(intake.factory, later) == original  # the open suggestion, never the opinion
    assert stored(intake.factory, later).status == Status.ROUTED


def test_each_stage_run_alone_leaves_an_opinion_unrouted(intake: Intake) -> None:
    """A worker that calls the stages one by one cannot classify or route an opinion either."""
    pipeline = intake.pipeline()
    with unit_of_work(intake.factory) as session:
        code = consultation.publish(
            session, title="广场舞时间", description=None, actor="zhou", now=T0
        ).short_code
    said = opinion(intake, code, "支持晚上九点以后不放音乐。", village="东村")
    for stage in (pipeline.classify, pipeline.check_duplicate, pipeline.route):
        stage(said)
    assert stored(intake.factory, said).status == Status.RECEIVED
    pipeline.process(said)
    s = stored(intake.factory, said)
    assert (s.status, s.category, s.predictions) == (Status.RECORDED, None, 0)


# ---- the speech model is loaded once ---------------------------------------------------------------


@pytest.mark.slow
def test_the_speech_model_is_loaded_once_on_first_use_for_every_thread(whisper: Transcriber) -> None:
    builds: list[Transcriber] = []
    started = threading.Event()

    def build() -> Transcriber:
        started.set()
        time.sleep(0.2)  # loading takes seconds: let the other threads arrive meanwhile
        builds.append(whisper)
        return whisper

    lazy = LazyTranscriber(build)
    assert not lazy.loaded and builds == []
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda _: lazy.get(), range(8)))
    assert started.is_set() and len(builds) == 1
    assert lazy.loaded and all(g is builds[0] for g in got)
    assert lazy.get() is builds[0] and len(builds) == 1
