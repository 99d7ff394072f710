"""Exact nearest training rows by cosine for NeighbourSVM's vote: common columns by BLAS, the rest sparse.

A classifier row is TF-IDF n-grams (tens of thousands of sparse columns) beside a 384-number sentence
vector (dense). Multiplying them all as one sparse matrix spends most of its time on the columns
nearly every row has (the sentence vector's, single letters, common character pairs), in scipy's
sparse product with an all but dense result. Here the columns most rows share are copied into a
dense matrix and multiplied by BLAS, and the other columns go through their postings (the rows that
contain each n-gram), so each part runs where it is fast. The two parts add up to the same cosine,
so the neighbours are the same (only the order of floating-point additions differs).

How many columns go dense is a cost estimate (``_choose_dense_columns``): a dense column costs one
multiply-add per stored row, a sparse one a posting per row that contains it. Training looks for the
neighbours of thousands of rows at once, where BLAS is fast and more columns go dense; a single note
reads the whole dense matrix once, so prediction keeps it narrow.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

# What one posting of the sparse product costs, in dense multiply-adds: for a block of queries
# (BLAS matrix product) and for one query at a time (BLAS reads the dense matrix once per query).
# Measured on the English FixMyStreet file (21,000 reports, 92,000 n-gram columns): per block of
# queries the fastest split had 1,800-2,500 dense columns, for single notes 500-800.
POSTING_COST_BATCH = 600.0
POSTING_COST_SINGLE = 20.0
# The dense copy of the common columns stays under this many bytes.
DENSE_BYTES = 256 * 2**20
# Query rows per block: bounds the dense similarity block's memory.
BLOCK_ROWS = 256
# Rows are searched in groups of this many: the k best lie in the k groups with the best maxima.
GROUP = 64


def unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """``matrix`` (CSR) with every row scaled to unit length (rows of zeros stay zero), float32."""
    matrix = sparse.csr_matrix(matrix, dtype=np.float32, copy=True)
    matrix.sum_duplicates()  # sorted column order: the same row always sums to the same norm
    lengths = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    norms = np.sqrt(np.bincount(rows, weights=matrix.data.astype(np.float64) ** 2, minlength=matrix.shape[0]))
    scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)
    matrix.data *= np.repeat(scale, lengths)
    return matrix


def _choose_dense_columns(df: np.ndarray, n_rows: int, posting_cost: float) -> np.ndarray:
    """The columns to multiply densely: the most frequent ones, as many as minimise the estimated cost.

    Per query, ``h`` dense columns cost ``n_rows * h`` multiply-adds and the sparse rest about
    ``posting_cost * sum(df**2) / n_rows`` (each of a query's n-grams brings its postings).
    """
    order = np.argsort(-df, kind="stable")
    limit = min(len(order), max(0, DENSE_BYTES // (4 * max(n_rows, 1))))
    if limit == 0 or n_rows == 0:
        return np.zeros(0, dtype=np.int64)
    squares = df[order].astype(np.float64) ** 2
    rest = squares.sum() - np.concatenate([[0.0], np.cumsum(squares[:limit])])  # sparse rest after h columns
    cost = n_rows * np.arange(limit + 1, dtype=np.float64) + posting_cost * rest / n_rows
    best = int(np.argmin(cost))
    return np.sort(order[:best])


def _top_k(sims: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` largest values (in no order); ``sims`` has a multiple of
    GROUP columns. The k largest values of a row lie in the k groups of GROUP columns with the
    largest maxima, so only those are sorted through: the same set as over the whole row (up to ties)."""
    n_queries, n_columns = sims.shape
    n_groups = n_columns // GROUP
    if n_groups <= 4 * k:
        return np.argpartition(sims, -k, axis=1)[:, -k:]
    maxima = sims.reshape(n_queries, n_groups, GROUP).max(axis=2)
    groups = np.argpartition(maxima, -k, axis=1)[:, -k:]
    candidates = (groups[:, :, None] * GROUP + np.arange(GROUP)).reshape(n_queries, k * GROUP)
    best = np.argpartition(np.take_along_axis(sims, candidates, axis=1), -k, axis=1)[:, -k:]
    return np.take_along_axis(candidates, best, axis=1)


class NeighbourIndex:
    """Unit-length training rows, split into a dense block (BLAS) and postings (sparse), for exact search.

    ``batch`` says what the index is for: looking up many queries at once (training) or a few
    (classifying notes), which decides how many columns are dense. Rows are padded with empty
    ones to a multiple of GROUP (an empty row has similarity 0 and votes nothing).
    """

    def __init__(self, rows: sparse.csr_matrix, *, batch: bool) -> None:
        """Index ``rows`` (unit length, CSR); the index keeps its own copies."""
        rows = sparse.csr_matrix(rows, dtype=np.float32)
        self.n_rows, n_columns = rows.shape
        padded = -(-max(self.n_rows, 1) // GROUP) * GROUP
        df = np.bincount(rows.indices, minlength=n_columns)
        dense = _choose_dense_columns(df, self.n_rows, POSTING_COST_BATCH if batch else POSTING_COST_SINGLE)
        is_dense = np.zeros(n_columns, dtype=bool)
        is_dense[dense] = True
        self.dense_columns = dense  # multiplied by BLAS; the rest through postings
        self._sparse_columns = np.flatnonzero(~is_dense)
        # Split the stored values by column without copying the whole matrix (it can be large).
        new_column = np.zeros(n_columns, dtype=np.int32)
        new_column[dense] = np.arange(len(dense), dtype=np.int32)
        new_column[self._sparse_columns] = np.arange(len(self._sparse_columns), dtype=np.int32)
        row_of = np.repeat(np.arange(self.n_rows, dtype=np.int32), np.diff(rows.indptr))
        in_dense = is_dense[rows.indices]
        self.dense = np.zeros((padded, len(dense)), dtype=np.float32)
        self.dense[row_of[in_dense], new_column[rows.indices[in_dense]]] = rows.data[in_dense]
        in_sparse = ~in_dense
        del in_dense
        # The rest transposed: row t lists the training rows that contain column t (its postings).
        self.postings = sparse.csr_matrix(
            sparse.coo_matrix(
                (rows.data[in_sparse], (new_column[rows.indices[in_sparse]], row_of[in_sparse])),
                shape=(len(self._sparse_columns), padded),
            ),
            dtype=np.float32,
        )

    def _similarities(self, queries: sparse.csr_matrix) -> np.ndarray:
        """Cosines with every row, padding included: (queries, padded rows), C order."""
        out = queries[:, self.dense_columns].toarray() @ self.dense.T
        if self.postings.shape[0]:
            out += (queries[:, self._sparse_columns] @ self.postings).toarray()
        return np.ascontiguousarray(out, dtype=np.float32)

    def similarities(self, queries: sparse.csr_matrix) -> np.ndarray:
        """Cosine of each query (unit length, same columns as the rows) with every row: (queries, rows)."""
        return self._similarities(sparse.csr_matrix(queries, dtype=np.float32))[:, : self.n_rows]

    def votes(
        self,
        queries: sparse.csr_matrix,
        row_class: np.ndarray,
        row_weight: np.ndarray,
        n_classes: int,
        k: int,
        exclude: np.ndarray | None = None,
    ) -> np.ndarray:
        """The vote over ``n_classes`` of the ``k`` rows most similar to each query (unit length).

        Each neighbour votes its similarity squared times its weight; a category's votes are divided
        by its share of the rows' weight, and each query's votes scaled to sum to 1 (all 0 when no
        row shares anything with the query). Rows where ``exclude`` (a mask over the rows) is true
        take no part: as if the index had been built without them (a calibration fold's own rows).
        """
        row_class = np.asarray(row_class)
        row_weight = np.asarray(row_weight, dtype=np.float64)
        taking_part = np.ones(self.n_rows, dtype=bool)
        if exclude is not None:
            taking_part &= ~np.asarray(exclude, dtype=bool)
        shares = np.bincount(row_class[taking_part], weights=row_weight[taking_part], minlength=n_classes)
        shares = np.maximum(shares / max(float(shares.sum()), 1e-12), 1e-12)
        votes = np.zeros((queries.shape[0], n_classes), dtype=np.float64)
        k = min(k, int(taking_part.sum()))
        if k < 1:
            return votes
        padding = self.dense.shape[0] - self.n_rows
        row_class = np.concatenate([row_class, np.zeros(padding, dtype=row_class.dtype)])
        row_weight = np.concatenate([row_weight, np.zeros(padding)])
        excluded = np.flatnonzero(~taking_part)
        queries = sparse.csr_matrix(queries, dtype=np.float32)
        for start in range(0, queries.shape[0], BLOCK_ROWS):
            sims = self._similarities(queries[start : start + BLOCK_ROWS])
            sims[:, excluded] = -np.inf
            nearest = _top_k(sims, k)
            strength = np.maximum(np.take_along_axis(sims, nearest, axis=1), 0.0).astype(np.float64) ** 2
            strength *= row_weight[nearest]
            classes = row_class[nearest]
            block = votes[start : start + len(sims)]
            for c in range(n_classes):
                block[:, c] = (strength * (classes == c)).sum(axis=1)
        votes /= shares
        totals = votes.sum(axis=1, keepdims=True)
        return votes / np.where(totals > 0, totals, 1.0)
