"""Sentence meaning as features: the real encoder, its shipped seed vectors and its guard rails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classify import meaning
from classify.meaning import DIMENSIONS, MeaningFeatures, MeaningUnavailable, SentenceEncoder
from classify.model import build_pipeline, fit_pipeline
from classify.text import normalise
from classify.train import read_labelled_csv, seed_paths

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = [
    pytest.mark.database_free,
    pytest.mark.skipif(
        not meaning.available(),
        reason=f"the sentence encoder cannot run here: {meaning.unavailable_reason()}",
    ),
]


def test_texts_that_mean_the_same_are_closer_than_texts_that_do_not() -> None:
    lights_zh, lights_zh_too, rubbish_zh = "路灯坏了，晚上很黑", "小区路灯不亮了", "河里的垃圾很臭"
    lights_en, lights_en_too, bus_en = (
        "The street light is broken and it is dark at night",
        "the lamp post outside my house does not work",
        "the bus comes only once a day",
    )
    texts = [lights_zh, lights_zh_too, rubbish_zh, lights_en, lights_en_too, bus_en]
    v = SentenceEncoder(seed_vectors=Path("/nonexistent")).encode(texts)
    assert v.shape == (6, DIMENSIONS) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=0.01)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.05  # same topic in other words, over another topic
    assert v[3] @ v[4] > v[3] @ v[5] + 0.03
    assert v[0] @ v[3] > v[0] @ v[5] + 0.05  # across languages too


def test_the_shipped_seed_vectors_are_the_encoders_own() -> None:
    """seed/meaning.npz must match what the encoder says today (else: python -m classify.meaning)."""
    texts = [normalise(e.text) for e in read_labelled_csv(seed_paths())]
    shipped = SentenceEncoder()
    fresh = SentenceEncoder(seed_vectors=Path("/nonexistent"))
    sample = texts[::50]
    assert np.allclose(shipped.encode(sample), fresh.encode(sample), atol=0.02)
    assert shipped.embedded == 0 and fresh.embedded == len(set(sample))
    # Every seed text is covered, so a first start trains the seed model without running the encoder.
    everything = SentenceEncoder()
    everything.encode(texts)
    assert everything.embedded == 0


def test_a_text_gets_the_same_features_embedded_or_remembered() -> None:
    encoder = SentenceEncoder(seed_vectors=Path("/nonexistent"))
    first = encoder.encode(["公交车太少了", "village bus comes once a day"])
    again = encoder.encode(["village bus comes once a day", "公交车太少了", "公交车太少了"])
    assert encoder.embedded == 2
    assert np.array_equal(again, first[[1, 0, 0]])


def test_long_reports_are_cut_to_the_token_limit_and_still_embedded() -> None:
    long_text = "村口的路灯坏了很久了，晚上出门很不安全。" * 60
    encoder = SentenceEncoder(seed_vectors=Path("/nonexistent"))
    vector = encoder.encode([long_text])[0]
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=0.01)


def test_the_pipeline_reads_meaning_and_stays_deterministic() -> None:
    pipeline = build_pipeline()
    block = dict(pipeline.named_steps["features"].transformer_list)["meaning"]
    assert isinstance(block, MeaningFeatures) and block.weight == 2.0
    texts = ["路灯坏了", "路灯不亮", "公交车太少", "公交站太远", "河水很臭", "垃圾没人清运"] * 3
    labels = ["power", "power", "transport", "transport", "environment", "environment"] * 3
    a = fit_pipeline(texts, labels).predict_proba(["晚上路上黑漆漆的"])
    b = fit_pipeline(texts, labels).predict_proba(["晚上路上黑漆漆的"])
    assert np.array_equal(a, b)


def test_without_the_encoder_a_meaning_model_refuses_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = SentenceEncoder(seed_vectors=Path("/nonexistent"))
    monkeypatch.setattr(meaning, "_ENCODER", encoder)
    monkeypatch.setattr(meaning, "unavailable_reason", lambda: "this CPU lacks AVX2/FMA")
    with pytest.raises(MeaningUnavailable, match="reads sentence meaning, but this CPU lacks AVX2"):
        MeaningFeatures().transform(["路灯坏了"])


def test_where_the_encoder_cannot_run_models_are_trained_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import classify.model

    monkeypatch.setattr(classify.model, "meaning_available", lambda: False)
    texts = ["路灯坏了", "路灯不亮", "公交车太少", "公交站太远"] * 3
    pipeline = fit_pipeline(texts, ["power", "power", "transport", "transport"] * 3)
    assert dict(pipeline.named_steps["features"].transformer_list)["meaning"] == "drop"
    assert pipeline.predict(["路灯又坏了"])[0] == "power"
