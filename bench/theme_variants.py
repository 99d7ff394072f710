"""Grouping variants tried against the product's theme method (issue 23) and not kept: each takes a
class's texts and returns cluster labels, over the same features as classify.themes, so
``bench/themes.py --variants`` reprints their figures next to the product's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from classify.themes import ThemeOptions, _Features, _phrases

Grouping = Callable[[Sequence[str]], list[int]]


def _mixed(texts: Sequence[str], method: str = "meaning_mixed_agglo_average") -> np.ndarray:
    """The product's mixed similarity of one class's texts (centred sentence vectors + n-grams)."""
    return _Features(texts, ThemeOptions(method=method)).similarity(range(len(texts)))


def _average_linkage(similarity: np.ndarray, threshold: float) -> list[int]:
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    model = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=threshold
    )
    return [int(x) for x in model.fit_predict(distance)]


def _neighbours(similarity: np.ndarray, k: int) -> np.ndarray:
    """A 0/1 matrix of each text's ``k`` most similar others."""
    others = similarity.copy()
    np.fill_diagonal(others, -np.inf)
    nearest = np.argsort(-others, axis=1)[:, :k]
    adjacency = np.zeros_like(similarity)
    adjacency[np.repeat(np.arange(len(similarity)), k), nearest.ravel()] = 1.0
    return adjacency


def shared_neighbours(k: int, threshold: float) -> Grouping:
    """Average linkage on the share of ``k`` nearest neighbours two texts have in common (damps
    hub texts that are near everything)."""

    def run(texts: Sequence[str]) -> list[int]:
        a = _neighbours(_mixed(texts), min(k, len(texts) - 1)) if len(texts) > 1 else np.ones((1, 1))
        return _average_linkage((a @ a.T) / max(1, k), threshold) if len(texts) > 1 else [0]

    return run


def louvain(k: int, resolution: float) -> Grouping:
    """Louvain communities of the ``k``-nearest-neighbour graph weighted by the mixed similarity
    (networkx; the bench skips it where networkx is missing)."""

    def run(texts: Sequence[str]) -> list[int]:
        import networkx as nx  # type: ignore[import-untyped,unused-ignore]

        similarity = _mixed(texts)
        graph: Any = nx.Graph()
        graph.add_nodes_from(range(len(texts)))
        rows, cols = np.nonzero(_neighbours(similarity, min(k, len(texts) - 1)))
        graph.add_weighted_edges_from(
            (int(i), int(j), float(similarity[i, j]))
            for i, j in zip(rows, cols, strict=True)
            if similarity[i, j] > 0
        )
        labels = [0] * len(texts)
        for c, members in enumerate(nx.community.louvain_communities(graph, resolution=resolution, seed=0)):
            for m in members:
                labels[m] = c
        return labels

    return run


def top_phrase(texts: Sequence[str]) -> list[int]:
    """Each text under its most common key phrase (classify.themes' whole words) among those at
    least two texts and under a quarter of the class use; a text with none stays alone."""
    docs = [_phrases(t) for t in texts]
    df = Counter(p for d in docs for p in d)
    ids: dict[object, int] = {}
    out = []
    for i, d in enumerate(docs):
        usable = [p for p in d if 2 <= df[p] < len(texts) / 4]
        key: object = max(usable, key=lambda p: (df[p], len(p), p)) if usable else ("alone", i)
        out.append(ids.setdefault(key, len(ids)))
    return out


#: name → grouping, as the bench prints them.
VARIANTS: dict[str, Grouping] = {
    "shared_neighbours_k10_0.9": shared_neighbours(10, 0.9),
    "shared_neighbours_k20_0.9": shared_neighbours(20, 0.9),
    "shared_neighbours_k30_0.8": shared_neighbours(30, 0.8),
    "louvain_k10_r1": louvain(10, 1.0),
    "louvain_k20_r2": louvain(20, 2.0),
    "top_phrase": top_phrase,
}
