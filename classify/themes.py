"""Grouping suggestions of one category into themes of the same concrete issue, and naming them.

Pure functions over texts (no database). A theme is a cut of an average-linkage agglomerative
clustering at a distance threshold, so the number of themes follows the data. The product's method
mixes two similarities: the sentence vectors of classify.meaning (which place "路灯不亮" near
"晚上很黑") of the whole text and of its opening sentence (which usually names the issue), centred
on their group's mean so that what every text of a category shares does not make them all alike,
and TF-IDF character n-grams (the words villagers chose; they work for Chinese
without segmentation and for English with typos). Where the sentence encoder cannot run, the n-grams
alone are used. ``join`` places new texts into existing themes without regrouping the rest, and
``theme_phrases`` names themes with class-based TF-IDF over whole words (jieba for Chinese, with place
names kept whole). ``bench/themes.py`` measures the methods against FixMyStreet's council categories.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.cluster import HDBSCAN, AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from classify import meaning
from classify.text import normalise

#: Method names understood by ``cluster``; the first is the one the product uses (best in the bench).
#: ``meaning_*`` methods fall back to ``mixed_agglo_average`` where the sentence encoder cannot run.
METHODS = (
    "meaning_opening_mixed_agglo_average",
    "meaning_mixed_agglo_average",
    "meaning_agglo_average",
    "meaning_mixed_hdbscan",
    "mixed_agglo_average",
    "char13_agglo_average",
    "char24_agglo_average",
    "char13_agglo_complete",
    "word_agglo_average",
    "char13_leader",
)
FALLBACK_METHOD = "mixed_agglo_average"
#: Weight (in texts) of the seed texts' mean vector when a group's mean is estimated for centring.
CENTRING_PRIOR = 20


@dataclass(frozen=True)
class ThemeOptions:
    """How tight a theme is: cosine distance threshold and smallest size worth calling a theme.

    ``meaning_weight`` is the share of the sentence-vector similarity in ``meaning_mixed`` methods
    (the rest is the n-gram similarity); ``meaning_opening`` methods split it evenly between the
    whole text's vector and its opening sentence's.
    """

    method: str = METHODS[0]
    distance_threshold: float = 0.9
    min_size: int = 2
    meaning_weight: float = 0.7


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
    if method.startswith(("mixed", "meaning")):
        return TfidfVectorizer(analyzer=_mixed_ngrams, sublinear_tf=True, min_df=1)
    if method.startswith("word"):
        return TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    # Chinese words are one to three characters long, so short n-grams carry the meaning there.
    ngrams = (2, 4) if method.startswith("char24") else (1, 3)
    return TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True, min_df=1)


def _clean(texts: Sequence[str]) -> list[str]:
    return [normalise(t or "").lower() or " " for t in texts]


def vectorise(texts: Sequence[str], method: str = FALLBACK_METHOD) -> csr_matrix:
    """L2-normalised TF-IDF rows for ``texts`` (normalised to Simplified Chinese, lower case)."""
    matrix: csr_matrix = _vectorizer(method).fit_transform(_clean(texts))
    return matrix


def effective_method(method: str) -> str:
    """The method that will run: a ``meaning_*`` one only where the sentence encoder can."""
    if method.startswith("meaning") and not meaning.available():
        return FALLBACK_METHOD
    return method


#: The end of a text's opening sentence: a full stop, question or exclamation mark (Chinese ones
#: anywhere; Latin ones before a space and a capital letter, so "No. 12" or "3.5" do not end it).
_SENTENCE_END = re.compile(r"[。！？]|[.!?](?=\s+[A-Z])")


def opening(text: str) -> str:
    """The opening sentence of ``text`` (all of it when it has one sentence): what a villager says
    first, or a report's title, usually names the issue; the rest describes it."""
    found = _SENTENCE_END.search(text or "")
    head = (text or "")[: found.end()] if found else (text or "")
    return head.strip() or (text or "")


def sentence_vectors(texts: Sequence[str]) -> np.ndarray:
    """Unit sentence vectors of ``texts`` (classify.meaning's encoder, on the normalised text)."""
    return np.asarray(meaning.encoder().encode([normalise(t or "") or " " for t in texts]), dtype=np.float32)


@lru_cache(maxsize=1)
def _prior_mean() -> np.ndarray:
    """The mean of the shipped seed texts' vectors: what any suggestion's vector has in common."""
    try:
        with np.load(meaning.SEED_VECTORS) as stored:
            if str(stored["model_sha256"]) == meaning.MODEL_SHA256:
                return np.asarray(stored["vectors"], dtype=np.float32).mean(axis=0)
    except (OSError, KeyError, ValueError):
        pass
    return np.zeros(meaning.DIMENSIONS, dtype=np.float32)


def _centred(vectors: np.ndarray) -> np.ndarray:
    """Vectors less their group's mean, unit length again.

    The mean is shrunk towards the seed texts' mean (CENTRING_PRIOR pseudo-texts), so a handful of
    texts is centred on what suggestions share in general rather than pushed apart from each other.
    """
    n = vectors.shape[0]
    mean = (vectors.sum(axis=0) + CENTRING_PRIOR * _prior_mean()) / (n + CENTRING_PRIOR)
    shifted = vectors - mean
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    return np.asarray(shifted / np.where(norms > 0, norms, 1.0), dtype=np.float32)


class _Features:
    """What a method compares, for all texts of one call: n-gram rows and/or sentence vectors."""

    def __init__(self, texts: Sequence[str], options: ThemeOptions) -> None:
        self.method = effective_method(options.method)
        self.weight = options.meaning_weight if "mixed" in self.method else 1.0
        uses_meaning = self.method.startswith("meaning")
        self.ngrams = vectorise(texts, self.method) if not uses_meaning or self.weight < 1 else None
        self.vectors = sentence_vectors(texts) if uses_meaning else None
        opens = uses_meaning and "_opening" in self.method
        self.openings = sentence_vectors([opening(t) for t in texts]) if opens else None

    def similarity(self, rows: Sequence[int]) -> np.ndarray:
        """Cosine similarity among ``rows`` (sentence vectors centred on these rows)."""
        index = list(rows)
        total = np.zeros((len(index), len(index)), dtype=np.float64)
        if self.vectors is not None:
            share = self.weight / 2 if self.openings is not None else self.weight
            centred = _centred(self.vectors[index])
            total += share * (centred @ centred.T)
            if self.openings is not None:
                centred = _centred(self.openings[index])
                total += share * (centred @ centred.T)
        if self.ngrams is not None:
            total += (1.0 - self.weight if self.vectors is not None else 1.0) * cosine_similarity(
                self.ngrams[index]
            )
        return total


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


def _hdbscan(distance: np.ndarray, min_size: int) -> list[int]:
    """HDBSCAN's clusters; its noise points each stay alone."""
    model = HDBSCAN(metric="precomputed", min_cluster_size=max(2, min_size), min_samples=1, copy=True)
    found = model.fit_predict(distance)
    after = int(found.max()) + 1
    return [int(x) if x >= 0 else after + i for i, x in enumerate(found)]


def _cluster_rows(similarity: np.ndarray, options: ThemeOptions, method: str) -> list[int]:
    n = similarity.shape[0]
    if n == 1:
        return [0]
    if method.endswith("leader"):
        return [int(x) for x in _leader(similarity, 1.0 - options.distance_threshold)]
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    if method.endswith("hdbscan"):
        return _hdbscan(distance, options.min_size)
    linkage = "complete" if method.endswith("complete") else "average"
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage=linkage,
        distance_threshold=options.distance_threshold,
    )
    return [int(x) for x in model.fit_predict(distance)]


def _check(options: ThemeOptions) -> None:
    if options.method not in METHODS:
        raise ValueError(f"unknown theme method {options.method!r}; choose one of {', '.join(METHODS)}")


def cluster(
    texts: Sequence[str], options: ThemeOptions | None = None, groups: Sequence[str] | None = None
) -> list[int]:
    """A cluster label per text; texts alone in their cluster get a label of their own.

    With ``groups`` (e.g. each text's category) texts are only clustered with texts of the same
    group, but the term weights are learnt from all of them: words every category uses count less.
    Labels are unique across groups.
    """
    options = options or ThemeOptions()
    _check(options)
    if not texts:
        return []
    keys = list(groups) if groups is not None else [""] * len(texts)
    if len(keys) != len(texts):
        raise ValueError("give one group per text")
    features = _Features(texts, options)
    labels = [0] * len(texts)
    offset = 0
    for key in sorted(set(keys)):
        rows = [i for i, k in enumerate(keys) if k == key]
        found = _cluster_rows(features.similarity(rows), options, features.method)
        for row, label in zip(rows, found, strict=True):
            labels[row] = offset + label
        offset += max(found) + 1
    return labels


def join(
    texts: Sequence[str], themes: Sequence[Sequence[str]], options: ThemeOptions | None = None
) -> list[int | None]:
    """For each new text, the index of the theme it joins, or None: no regrouping of the rest.

    A text joins the theme whose members are closest to it on average (the criterion average linkage
    merges by), when that mean distance is within the threshold. Themes and texts are of one group.
    """
    options = options or ThemeOptions()
    _check(options)
    if not texts:
        return []
    members = [list(t) for t in themes if t]
    if len(members) != len(themes):
        raise ValueError("a theme to join has no members")
    if not members:
        return [None] * len(texts)
    pool = [m for theme in members for m in theme]
    features = _Features([*pool, *texts], options)
    similarity = features.similarity(range(len(pool) + len(texts)))[len(pool) :, : len(pool)]
    bounds = np.cumsum([0, *[len(t) for t in members]])
    means = np.stack([similarity[:, lo:hi].mean(axis=1) for lo, hi in pairwise(bounds)], axis=1)
    out: list[int | None] = []
    for row in means:
        best = int(np.argmax(row))
        out.append(best if 1.0 - float(row[best]) <= options.distance_threshold else None)
    return out


# --- naming themes -------------------------------------------------------------------------------

_CJK = re.compile(r"[\u4e00-\u9fff]")
_EN_WORD = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")
# Function words and the filler of reports (sklearn's list also drops "fire", "bill", "mill").
_EN_STOP = frozenset(
    str.split(
        "a about above after again against all also am an and any are aren't as at be because been before "
        "being below between both but by can can't cannot could couldn't did didn't do does doesn't doing "
        "don't down during each even ever every few for from further get gets getting got had hasn't has "
        "have haven't having he her here hers herself him himself his how however i i'm i've if in into is "
        "isn't it it's its itself just let's like many may me might more most much must my myself need "
        "needs needed near no nor not now of off on once one only or other others our ours ourselves out "
        "outside over own please quite rather really same several she should shouldn't since so some still "
        "such than that that's the their theirs them themselves then there there's these they they're this "
        "those though through to too two under until up upon us very via was wasn't we we're were weren't "
        "what when where which while who whom why will with within without would wouldn't yet you your "
        "yours yourself yourselves opposite report reported reporting thanks thank regards behind beside "
        "along around across next front com www http https"
    )
)
# Words every suggestion may use ("we suggest", "the problem"): never a theme's name.
_ZH_STOP = frozenset(
    str.split(
        "我们 你们 他们 这个 那个 一个 没有 希望 问题 反映 请求 情况 现在 已经 进行 相关 有关 建议 要求 "
        "领导 部门 政府 有关部门 解决 处理 尽快 及时 严重 非常 影响 我们 大家 每天 时候 这样 那里 这里 "
        "东西 事情 地方 市民 居民 群众 老百姓 村民 一下 谢谢 您好 你好 请问 是否 能否 可以 不能 知道 "
        "出现 存在 造成 导致 发生 时间 目前 多次 经常 一直 好几天 几天 晚上 白天 作为 工作 规定 表示"
    )
)
# POS tags (jieba's) of words that can name an issue: nouns (not personal names), verbs, verbal
# nouns, idioms; places are tagged ns.
_ZH_KEEP = ("n", "v", "i", "l", "j", "an")
_ZH_DROP = frozenset({"nr", "nrt", "nrfg", "vd", "vg"})
# Place words that end a name ("五星" + "路" → "五星路"), and what may trail them in jieba's token
# ("路上", "村口").
_PLACE_SUFFIXES = tuple(
    ["小区", "社区", "大道", "大街", "公园", "广场", "路", "街", "村", "镇", "乡", "巷", "弄", "桥"]
)
_PLACE_TRAIL = frozenset({"", "上", "边", "旁", "里", "内", "口", "头"})
_PLACE_HEAD_TAGS = frozenset({"nz", "nr", "ns", "n", "nt", "m", "j", "nrt", "nrfg", "ng", "a", "b"})
# An address's parts end at these characters ("浙江省|淳安县|枫树岭镇|下姜村|12号").
_ADDRESS_PART = re.compile(r"[^省市县区镇乡村路街巷弄桥号]*[省市县区镇乡村路街巷弄桥号]")

_JIEBA_LOCK = threading.Lock()
_KNOWN_PLACES: set[str] = set()
_jieba: Any = None


def _posseg() -> Any:
    """jieba's part-of-speech tokenizer, loaded once (its dictionary takes a second)."""
    global _jieba
    if _jieba is None:
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba.posseg


def add_places(names: Iterable[str]) -> None:
    """Teach the segmenter place names the product knows (villages, roads in addresses): kept whole.

    Addresses are searched for place-like parts ("五星路5号" → "五星路"); new names only.
    """
    found: set[str] = set()
    for name in names:
        text = normalise(name or "").strip()
        if not text:
            continue
        if _HAN_RUN.fullmatch(text) and 2 <= len(text) <= 12:
            found.add(text)
        found.update(
            part
            for part in _ADDRESS_PART.findall(text)
            if 2 <= len(part) <= 8 and _HAN_RUN.fullmatch(part) and part.endswith(_PLACE_SUFFIXES)
        )
    _posseg()
    with _JIEBA_LOCK:
        for place in sorted(found - _KNOWN_PLACES):
            _jieba.add_word(place, tag="ns")
            _KNOWN_PLACES.add(place)


def _zh_tokens(text: str) -> list[tuple[str, str]]:
    """(word, tag) of a Chinese text, with place names merged from their head and suffix."""
    posseg = _posseg()
    with _JIEBA_LOCK:
        pairs = [(p.word, p.flag) for p in posseg.lcut(text)]
    merged: list[tuple[str, str]] = []
    for word, flag in pairs:
        if merged and _HAN_RUN.fullmatch(merged[-1][0]) and merged[-1][1] in _PLACE_HEAD_TAGS:
            suffix = next((s for s in _PLACE_SUFFIXES if word.startswith(s)), None)
            head = merged[-1][0]
            if (
                suffix is not None
                and word[len(suffix) :] in _PLACE_TRAIL
                and len(head) <= 6
                and head not in _ZH_STOP
                and not head.endswith(_PLACE_SUFFIXES)
            ):
                merged[-1] = (head + suffix, "ns")
                continue
        merged.append((word, flag))
    return merged


def _zh_phrases(text: str) -> set[str]:
    """Whole words that can name an issue, and pairs of such adjacent words ("村口路灯")."""
    out: set[str] = set()
    previous: str | None = None
    for word, flag in _zh_tokens(text):
        keep = (
            _HAN_RUN.fullmatch(word) is not None
            and len(word) >= 2
            and word not in _ZH_STOP
            and flag.startswith(_ZH_KEEP)
            and flag not in _ZH_DROP
        )
        if keep:
            out.add(word)
            if previous is not None and len(previous) + len(word) <= 8:
                out.add(previous + word)
            previous = word
        else:
            previous = None
    return out


def _singular(word: str) -> str:
    """A plain English plural's singular ("potholes" → "pothole"), so both count as one phrase."""
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _en_phrases(text: str) -> set[str]:
    """English words (not stop words, plurals as singulars) and pairs of adjacent ones ("street light")."""
    out: set[str] = set()
    for chunk in re.split(r"[^a-z' ]+", text):
        previous: str | None = None
        for word in map(_singular, _EN_WORD.findall(chunk)):
            if word in _EN_STOP or len(word) < 3:
                previous = None
                continue
            out.add(word)
            if previous is not None:
                out.add(f"{previous} {word}")
            previous = word
    return out


def _phrases(text: str) -> set[str]:
    cleaned = normalise(text or "").lower()
    return _zh_phrases(cleaned) | _en_phrases(_HAN_RUN.sub(" . ", cleaned))


def theme_phrases(themes: Sequence[Sequence[str]], limit: int = 5) -> list[list[str]]:
    """Key phrases per theme, the most telling first (class-based TF-IDF over whole words).

    A phrase scores by the share of the theme's texts that use it times log(1 + A / f), f being how
    many texts of all the themes use it and A the mean number of phrase uses per theme: what this
    theme says often and the others seldom. A two-word phrase replaces its word when most texts that
    use the word use the phrase ("street light" for "light").
    """
    per_theme = [[_phrases(t) for t in texts if t and t.strip()] for texts in themes]
    counts = [Counter(p for doc in docs for p in doc) for docs in per_theme]
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    mean_uses = sum(total.values()) / max(1, len([c for c in counts if c]))
    out: list[list[str]] = []
    for docs, count in zip(per_theme, counts, strict=True):
        if not count:
            out.append([])
            continue
        floor = 2 if len(docs) >= 2 and any(v >= 2 for v in count.values()) else 1
        score = {
            p: (n / len(docs)) * math.log(1.0 + mean_uses / total[p]) for p, n in count.items() if n >= floor
        }
        ranked = sorted(score, key=lambda p: (-score[p], -count[p], -len(p), p))
        chosen: list[str] = []
        for phrase in ranked:
            inside = [i for i, c in enumerate(chosen) if _contains(phrase, c)]
            if inside:  # a longer phrase for a chosen word: take it in that word's place if as common
                i = inside[0]
                share = count[phrase] / max(count[chosen[j]] for j in inside)
                common = share >= 0.6 or (len(inside) > 1 and share >= 0.4)  # "street" + "light"
                if common and not any(_contains(c, phrase) for c in chosen):
                    chosen = [phrase if j == i else c for j, c in enumerate(chosen) if j not in inside[1:]]
                continue
            if any(_contains(c, phrase) for c in chosen):
                continue
            chosen.append(phrase)
            if len(chosen) == limit:
                break
        out.append(chosen)
    return out


def _contains(longer: str, shorter: str) -> bool:
    """Whether ``longer`` is a longer phrase containing ``shorter`` (as a word in English)."""
    if len(longer) <= len(shorter):
        return False
    if _CJK.search(shorter):
        return shorter in longer
    return f" {shorter} " in f" {longer} "


def key_phrases(texts: Sequence[str], limit: int = 5) -> list[str]:
    """The phrases that best characterise one group of texts (see ``theme_phrases``)."""
    return theme_phrases([texts], limit)[0]


def theme_title(phrases: Sequence[str], texts: Sequence[str], size: int = 3) -> str:
    """A theme's name: its top phrases, or the start of its first text when none was found."""
    return " · ".join(phrases[:size]) or next((t.strip()[:40] for t in texts if t and t.strip()), "")


def most_similar(text: str, candidates: Sequence[str]) -> tuple[int, float] | None:
    """Index and cosine similarity of the candidate closest to ``text`` (None without candidates)."""
    if not candidates or not (text or "").strip():
        return None
    matrix = vectorise([text, *candidates])
    scores = cosine_similarity(matrix[0], matrix[1:]).ravel()
    best = int(np.argmax(scores))
    return best, float(scores[best])
