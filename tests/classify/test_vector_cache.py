"""Sentence vectors are computed once per text: kept in the database for every node and later run."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.cli import main
from classify import meaning
from classify.meaning import ENCODER_ID, SentenceEncoder, kept_vectors, vector_key
from classify.model import Classifier
from classify.registry import ClassifierRegistry
from classify.text import normalise
from classify.train import train_to_dir
from classify.vector_store import DatabaseVectorStore, vector_file
from models.db import make_engine, make_session_factory, unit_of_work
from models.reviews import embedding_cache
from tests.classify.conftest import OBVIOUS, hand_written_examples

pytestmark = pytest.mark.skipif(
    not meaning.available(), reason=f"the sentence encoder cannot run here: {meaning.unavailable_reason()}"
)


@pytest.fixture()
def fresh_encoder(monkeypatch: pytest.MonkeyPatch) -> SentenceEncoder:
    """A process encoder with nothing remembered and no shipped vectors: every text it does not find
    in a store must be embedded (and is counted in ``embedded``)."""
    encoder = SentenceEncoder(seed_vectors=Path("/nonexistent"))
    monkeypatch.setattr(meaning, "_ENCODER", encoder)
    return encoder


def new_process(monkeypatch: pytest.MonkeyPatch, *, shipped: bool = False) -> SentenceEncoder:
    """What another process or node starts with: an encoder that remembers nothing (``shipped``:
    but has the seed set's vectors that ship with the package, as every real one has)."""
    encoder = SentenceEncoder() if shipped else SentenceEncoder(seed_vectors=Path("/nonexistent"))
    monkeypatch.setattr(meaning, "_ENCODER", encoder)
    return encoder


def write_csv(path: Path) -> int:
    """The hand-written set as a training CSV; returns how many distinct texts the model reads."""
    examples = hand_written_examples()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([(e.text, e.label) for e in examples])
    return len({normalise(e.text) for e in examples})


def stored(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return embedding_cache.count_vectors(session, ENCODER_ID)


def test_the_second_training_on_the_same_database_embeds_nothing(
    db_factory: sessionmaker[Session],
    tmp_path: Path,
    fresh_encoder: SentenceEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "train.csv"
    distinct = write_csv(data)
    first = train_to_dir([data], tmp_path / "a", vector_store=DatabaseVectorStore(db_factory))
    # Cross-validation and the final fit read every text six times: each was embedded once.
    assert fresh_encoder.embedded == distinct
    assert stored(db_factory) == distinct

    again = new_process(monkeypatch)
    second = train_to_dir([data], tmp_path / "b", vector_store=DatabaseVectorStore(db_factory))
    assert again.embedded == 0
    assert stored(db_factory) == distinct
    texts = [t for t, _ in OBVIOUS]
    assert Classifier.load(second.directory).predict(texts) == Classifier.load(first.directory).predict(texts)


def test_nodes_on_one_database_share_the_vectors_of_the_notes_they_classify(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_a, engine_b = make_engine(database_url), make_engine(database_url)
    try:
        first = new_process(monkeypatch, shipped=True)
        node_a = ClassifierRegistry(make_session_factory(engine_a), tmp_path / "node-a")
        node_a.ensure_active()  # the seed model: its texts' vectors ship with the package
        note = "村东头那盏路灯又不亮了，晚上走路看不见"
        label = node_a.active()[1].predict([note])[0].label
        assert first.embedded == 1

        other = new_process(monkeypatch, shipped=True)
        node_b = ClassifierRegistry(make_session_factory(engine_b), tmp_path / "node-b")
        assert node_b.active()[1].predict([note])[0].label == label
        assert other.embedded == 0  # found in the database node A wrote to
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_a_planted_or_damaged_vector_is_not_used(
    db_factory: sessionmaker[Session], fresh_encoder: SentenceEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    short, infinite = "the bins on our street were not collected", "垃圾桶好几天没人清运"
    with unit_of_work(db_factory) as session:
        embedding_cache.put_vectors(
            session,
            ENCODER_ID,
            {vector_key(short): b"\x00\x3c" * 10, vector_key(infinite): b"\x00\x7c" * meaning.DIMENSIONS},
        )
    with kept_vectors(DatabaseVectorStore(db_factory)):
        vectors = fresh_encoder.encode([short, infinite])
    assert fresh_encoder.embedded == 2
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=0.01)
    # The bad rows keep their keys (the first writer wins): they go on being refused, never used.
    again = new_process(monkeypatch)
    with kept_vectors(DatabaseVectorStore(db_factory)):
        assert np.array_equal(again.encode([short, infinite]), vectors)
    assert again.embedded == 2


def test_vectors_of_another_encoder_are_not_used(
    db_factory: sessionmaker[Session], fresh_encoder: SentenceEncoder
) -> None:
    text = "street light broken outside the school"
    other = np.full(meaning.DIMENSIONS, 0.05, dtype="<f2").tobytes()
    with unit_of_work(db_factory) as session:
        embedding_cache.put_vectors(session, "some-other-encoder", {vector_key(text): other})
    with kept_vectors(DatabaseVectorStore(db_factory)):
        fresh_encoder.encode([text])
    assert fresh_encoder.embedded == 1


def test_minsheng_train_keeps_vectors_in_a_file_between_runs(
    tmp_path: Path, fresh_encoder: SentenceEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "train.csv"
    distinct = write_csv(data)
    cache = tmp_path / "cache" / "vectors.sqlite"
    for run, out in enumerate(("a", "b")):
        encoder = fresh_encoder if run == 0 else new_process(monkeypatch)
        args = ["train", "--data", str(data), "--out", str(tmp_path / out), "--vector-cache", str(cache)]
        assert main(args) == 0
        assert encoder.embedded == (distinct if run == 0 else 0)
    keys = [vector_key(normalise(e.text)) for e in hand_written_examples()]
    assert len(vector_file(cache).load(ENCODER_ID, keys)) == distinct
