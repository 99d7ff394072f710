"""A Mandarin character n-gram language model (Witten-Bell interpolation), to rescore Whisper's
n-best hypotheses with the township's own text (seed notes, confirmed transcripts)."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

_HAN = re.compile(r"[\u3400-\u9fff]+")
_BOUNDARY = "\x02"  # start and end of a run of Chinese characters


def han_runs(text: str) -> list[str]:
    """The runs of Chinese characters in ``text`` (punctuation, digits and Latin split them)."""
    return _HAN.findall(text)


class CharNgramLM:
    """P(character | previous order-1 characters), interpolated down to a uniform distribution."""

    def __init__(self, texts: Iterable[str], order: int = 3) -> None:
        if order < 1:
            raise ValueError("order must be at least 1")
        self.order = order
        self._counts: dict[str, Counter[str]] = defaultdict(Counter)
        vocabulary: set[str] = set()
        for text in texts:
            for run in han_runs(text):
                chars = [_BOUNDARY] * (order - 1) + list(run) + [_BOUNDARY]
                vocabulary.update(run)
                for i in range(order - 1, len(chars)):
                    for n in range(order):
                        self._counts["".join(chars[i - n : i])][chars[i]] += 1
        # Characters never seen share the mass of one extra symbol over a large Han inventory.
        self._uniform = 1.0 / (len(vocabulary) + 1 + 20_000)

    def _probability(self, history: str, char: str) -> float:
        p = self._uniform
        for n in range(len(history) + 1):
            context = history[len(history) - n :]
            counts = self._counts.get(context)
            if not counts:
                break
            total, types = sum(counts.values()), len(counts)
            lam = total / (total + types)
            p = lam * counts[char] / total + (1 - lam) * p
        return p

    def logprob(self, text: str) -> float:
        """Natural-log probability of the Chinese characters of ``text`` (0.0 when it has none)."""
        score = 0.0
        for run in han_runs(text):
            chars = [_BOUNDARY] * (self.order - 1) + list(run) + [_BOUNDARY]
            for i in range(self.order - 1, len(chars)):
                score += math.log(self._probability("".join(chars[i - self.order + 1 : i]), chars[i]))
        return score
