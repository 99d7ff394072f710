"""Grouping suggestions of one category into themes of the same concrete issue, and near-duplicates.

Pure functions over texts (no database): TF-IDF character n-grams (they work for Chinese without
word segmentation and for English with typos), cosine similarity, and agglomerative clustering
cut at a distance threshold so the number of themes follows the data. ``bench/themes.py``
measures the methods against FixMyStreet's fine-grained council categories.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from classify.text import normalise

#: Method names understood by ``cluster``; the first is the one the product uses (best in the bench).
METHODS = (
    "mixed_agglo_average",
    "char13_agglo_average",
    "char24_agglo_average",
    "char13_agglo_complete",
    "word_agglo_average",
    "char13_leader",
)


@dataclass(frozen=True)
class ThemeOptions:
    """How tight a theme is: cosine distance threshold and smallest size worth calling a theme."""

    method: str = METHODS[0]
    distance_threshold: float = 0.85
    min_size: int = 2


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


def _mixed_ngrams(text: str) -> list[str]:
    """Han runs as 1-3 character n-grams (Chinese words are short); everything else as char_wb 2-4."""
    grams = [
        run[i : i + n] for run in _HAN_RUN.findall(text) for n in (1, 2, 3) for i in range(len(run) - n + 1)
    ]
    for word in _HAN_RUN.sub(" ", text).split():
        padded = f" {word} "
        grams.extend(padded[i : i + n] for n in (2, 3, 4) for i in range(len(padded) - n + 1))
    return grams


def _vectorizer(method: str) -> TfidfVectorizer:
    if method.startswith("mixed"):
        return TfidfVectorizer(analyzer=_mixed_ngrams, sublinear_tf=True, min_df=1)
    if method.startswith("word"):
        return TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    # Chinese words are one to three characters long, so short n-grams carry the meaning there.
    ngrams = (2, 4) if method.startswith("char24") else (1, 3)
    return TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True, min_df=1)


def vectorise(texts: Sequence[str], method: str = METHODS[0]) -> csr_matrix:
    """L2-normalised TF-IDF rows for ``texts`` (normalised to Simplified Chinese, lower case)."""
    cleaned = [normalise(t or "").lower() or " " for t in texts]
    matrix: csr_matrix = _vectorizer(method).fit_transform(cleaned)
    return matrix


def _leader(similarity: np.ndarray, threshold: float) -> np.ndarray:
    """Single pass: each text joins the first earlier group whose leader is close enough."""
    labels = np.full(similarity.shape[0], -1)
    leaders: list[int] = []
    for i in range(similarity.shape[0]):
        best = max(leaders, key=lambda j: similarity[i, j], default=None)
        if best is not None and similarity[i, best] >= threshold:
            labels[i] = labels[best]
        else:
            labels[i] = len(leaders)
            leaders.append(i)
    return labels


def _cluster_rows(similarity: np.ndarray, options: ThemeOptions) -> list[int]:
    n = similarity.shape[0]
    if n == 1:
        return [0]
    if options.method.endswith("leader"):
        return [int(x) for x in _leader(similarity, 1.0 - options.distance_threshold)]
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    linkage = "complete" if options.method.endswith("complete") else "average"
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage=linkage,
        distance_threshold=options.distance_threshold,
    )
    return [int(x) for x in model.fit_predict(distance)]


def cluster(
    texts: Sequence[str], options: ThemeOptions | None = None, groups: Sequence[str] | None = None
) -> list[int]:
    """A cluster label per text; texts alone in their cluster get a label of their own.

    With ``groups`` (e.g. each text's category) texts are only clustered with texts of the same
    group, but the term weights are learnt from all of them: words every category uses count less.
    Labels are unique across groups.
    """
    options = options or ThemeOptions()
    if options.method not in METHODS:
        raise ValueError(f"unknown theme method {options.method!r}; choose one of {', '.join(METHODS)}")
    if not texts:
        return []
    keys = list(groups) if groups is not None else [""] * len(texts)
    if len(keys) != len(texts):
        raise ValueError("give one group per text")
    matrix = vectorise(texts, options.method)
    labels = [0] * len(texts)
    offset = 0
    for key in sorted(set(keys)):
        rows = [i for i, k in enumerate(keys) if k == key]
        found = _cluster_rows(cosine_similarity(matrix[rows]), options)
        for row, label in zip(rows, found, strict=True):
            labels[row] = offset + label
        offset += max(found) + 1
    return labels


_CJK = re.compile(r"[\u4e00-\u9fff]")
_EN_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "with",
        "by",
        "from",
        "as",
        "near",
        "not",
        "no",
        "there",
        "please",
        "our",
        "my",
        "we",
        "i",
        "you",
        "they",
        "he",
        "she",
        "its",
        "has",
        "have",
        "had",
        "very",
    ]
)
_ZH_STOP = frozenset(
    [
        "我们",
        "你们",
        "他们",
        "这个",
        "那个",
        "一个",
        "没有",
        "希望",
        "问题",
        "反映",
        "请求",
        "情况",
        "现在",
        "已经",
        "进行",
        "相关",
        "有关",
    ]
)


def _phrase_ok(phrase: str) -> bool:
    words = phrase.split()
    if words and (words[0] in _EN_STOP or words[-1] in _EN_STOP):
        return False
    if _CJK.search(phrase):
        return len(phrase.strip()) >= 2 and phrase.strip() not in _ZH_STOP
    return len(phrase.strip()) >= 3


def key_phrases(texts: Sequence[str], limit: int = 5) -> list[str]:
    """The phrases that best characterise a group of texts (Chinese 2-4 character runs, English words)."""
    cleaned = [normalise(t or "").lower() for t in texts if t and t.strip()]
    if not cleaned:
        return []
    has_cjk = any(_CJK.search(t) for t in cleaned)
    if has_cjk:
        # Chinese: character n-grams inside runs of Han characters.
        vec = TfidfVectorizer(
            analyzer=lambda s: [
                run[i : i + n]
                for run in re.findall(r"[\u4e00-\u9fff]+", s)
                for n in (2, 3, 4)
                for i in range(len(run) - n + 1)
            ]
        )
    else:
        vec = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b[a-z][a-z]+\b")
    try:
        matrix = vec.fit_transform(cleaned)
    except ValueError:  # nothing but stop words / punctuation
        return []
    # Document frequency first (what many of them say), TF-IDF weight second.
    df = np.asarray((matrix > 0).sum(axis=0)).ravel()
    weight = np.asarray(matrix.sum(axis=0)).ravel()
    vocab = np.array(vec.get_feature_names_out())
    lengths = np.array([len(str(v)) for v in vocab])
    order = np.lexsort((-weight, -lengths, -df))  # most documents first, then the longer phrase
    chosen: list[str] = []
    for index in order:
        phrase = str(vocab[index])
        if not _phrase_ok(phrase) or any(phrase in c or c in phrase for c in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen


def most_similar(text: str, candidates: Sequence[str]) -> tuple[int, float] | None:
    """Index and cosine similarity of the candidate closest to ``text`` (None without candidates)."""
    if not candidates or not (text or "").strip():
        return None
    matrix = vectorise([text, *candidates])
    scores = cosine_similarity(matrix[0], matrix[1:]).ravel()
    best = int(np.argmax(scores))
    return best, float(scores[best])
