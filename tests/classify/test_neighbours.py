"""The neighbour search (classify.neighbours) votes exactly as the plain sparse product it replaced."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from classify.model import NeighbourSVM
from classify.neighbours import NeighbourIndex, unit_rows

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


def reference_votes(
    queries: sparse.csr_matrix,
    rows: sparse.csr_matrix,
    row_class: np.ndarray,
    row_weight: np.ndarray,
    n_classes: int,
    k: int,
) -> np.ndarray:
    """The vote as classify.model computed it before the dense/postings split: every column in one
    sparse product of the unit-length queries with the unit-length rows (kept here only as the
    reference; the product no longer has it)."""
    shares = np.bincount(row_class, weights=row_weight, minlength=n_classes)
    shares = np.maximum(shares / max(float(shares.sum()), 1e-12), 1e-12)
    votes = np.zeros((queries.shape[0], n_classes), dtype=np.float64)
    k = min(k, rows.shape[0])
    rows_t = rows.T.tocsr()
    for start in range(0, queries.shape[0], 256):
        sims = (queries[start : start + 256] @ rows_t).toarray()
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        strength = np.maximum(np.take_along_axis(sims, nearest, axis=1), 0.0) ** 2
        strength *= row_weight[nearest]
        classes = row_class[nearest]
        block = votes[start : start + len(sims)]
        for c in range(n_classes):
            block[:, c] = (strength * (classes == c)).sum(axis=1)
    votes /= shares
    totals = votes.sum(axis=1, keepdims=True)
    return votes / np.where(totals > 0, totals, 1.0)


def text_like_rows(rng: np.random.Generator, n: int) -> sparse.csr_matrix:
    """Rows shaped like the classifier's: n-gram columns from very common to rare (Zipf-like), then
    a block of dense "sentence vector" columns every row has."""
    n_terms, n_dense = 3000, 24
    popularity = 1.0 / np.arange(1, n_terms + 1) ** 0.9
    popularity /= popularity.sum()
    data, indices, indptr = [], [], [0]
    for _ in range(n):
        terms = np.unique(rng.choice(n_terms, size=rng.integers(5, 60), p=popularity))
        indices.append(terms)
        data.append(rng.exponential(1.0, len(terms)).astype(np.float32))
        indptr.append(indptr[-1] + len(terms))
    ngrams = sparse.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.array(indptr)), shape=(n, n_terms)
    )
    meaning = rng.normal(0.0, 1.0, (n, n_dense)).astype(np.float32)
    return unit_rows(sparse.hstack([ngrams, sparse.csr_matrix(meaning)], format="csr"))


@pytest.mark.parametrize(("batch", "n_rows"), [(True, 600), (False, 600), (True, 3000), (False, 3001)])
def test_the_split_search_votes_as_the_single_sparse_product(batch: bool, n_rows: int) -> None:
    # 3,000 rows are enough for the search to look only in the best groups of rows (_top_k).
    rng = np.random.default_rng(3)
    rows = text_like_rows(rng, n_rows)
    queries = sparse.vstack([text_like_rows(rng, 300), sparse.csr_matrix((1, rows.shape[1]))], format="csr")
    row_class = rng.integers(0, 5, rows.shape[0]).astype(np.int32)
    row_weight = rng.choice([1.0, 3.0], rows.shape[0]).astype(np.float32)
    index = NeighbourIndex(rows, batch=batch)
    # Both paths are exercised: the most common columns (and the dense block) by BLAS, the rest sparse.
    assert 24 <= len(index.dense_columns) < rows.shape[1]
    ours = index.votes(queries, row_class, row_weight, 5, 10)
    expected = reference_votes(queries, rows, row_class, row_weight, 5, 10)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    assert ours[-1].sum() == 0.0  # a query with nothing in common gets no vote
    np.testing.assert_allclose(index.similarities(queries[:50]), (queries[:50] @ rows.T).toarray(), atol=1e-6)


def test_more_neighbours_than_rows_all_vote() -> None:
    rows = unit_rows(sparse.csr_matrix(np.array([[1.0, 0.0], [0.8, 0.2], [0.0, 1.0]])))
    votes = NeighbourIndex(rows, batch=False).votes(
        unit_rows(sparse.csr_matrix([[1.0, 0.1]])), np.array([0, 0, 1]), np.ones(3), 2, 10
    )
    expected = reference_votes(
        unit_rows(sparse.csr_matrix([[1.0, 0.1]])), rows, np.array([0, 0, 1]), np.ones(3), 2, 10
    )
    np.testing.assert_allclose(votes, expected, rtol=1e-6)


def test_a_fitted_model_votes_as_the_reference_over_its_training_rows() -> None:
    rng = np.random.default_rng(4)
    X = text_like_rows(rng, 400)
    y = np.array(["environment", "other", "power", "transport"])[rng.integers(0, 4, 400)]
    weights = rng.choice([1.0, 3.0], 400)
    model = NeighbourSVM(C=0.5, k=10).fit(X, y, sample_weight=weights)
    queries = text_like_rows(rng, 120)
    expected = reference_votes(
        unit_rows(queries), unit_rows(X), np.searchsorted(model.classes_, y), weights, 4, 10
    )
    np.testing.assert_allclose(model.neighbour_votes(queries), expected, rtol=1e-5, atol=1e-6)
    # The calibration's out-of-fold probabilities are exposed for metrics (one row per training row).
    assert model.oof_proba_.shape == (400, 4) and np.allclose(model.oof_proba_.sum(axis=1), 1.0)


def test_rows_left_out_vote_as_if_the_index_had_never_held_them() -> None:
    # Calibration looks up each fold's rows in one index of all rows, leaving the fold's own out.
    rng = np.random.default_rng(5)
    rows = text_like_rows(rng, 3000)
    row_class = rng.integers(0, 3, 3000)
    row_weight = rng.choice([1.0, 3.0], 3000)
    fold = rng.random(3000) < 0.2
    index = NeighbourIndex(rows, batch=True)
    ours = index.votes(rows[fold], row_class, row_weight, 3, 10, exclude=fold)
    expected = reference_votes(rows[fold], rows[~fold], row_class[~fold], row_weight[~fold], 3, 10)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
