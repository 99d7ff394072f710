"""Rebuild the shipped seed sentence vectors (seed/meaning.npz) from the seed CSVs:
``python -m classify.seed_vectors`` (after editing the seed examples)."""

from __future__ import annotations

from classify.meaning import SEED_VECTORS, write_seed_vectors
from classify.text import normalise
from classify.train import read_labelled_csv, seed_paths


def main() -> int:
    """Embed every seed example and write their vectors beside the seed set."""
    count = write_seed_vectors([normalise(e.text) for e in read_labelled_csv(seed_paths())])
    print(f"wrote {count} vectors to {SEED_VECTORS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
