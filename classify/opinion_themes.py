"""The opinions on one consultation topic grouped into themes and named by their key phrases, with
the product's theme machinery (classify.themes), so staff see what the opinions are about."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from classify.themes import ThemeOptions, cluster, theme_phrases, theme_title

#: Tighter than the default for a category's suggestions: every opinion on a topic shares its
#: subject, so a theme inside it must hold opinions that say the same thing about it.
OPINION_THEMES = ThemeOptions(distance_threshold=0.85)


@dataclass(frozen=True)
class OpinionTheme:
    """A group of opinions: its title (the top key phrases; empty for the opinions that share a
    theme with no other), its key phrases, and the indexes of its opinions in the order given."""

    title: str
    key_phrases: list[str]
    members: list[int]


def group_opinions(texts: Sequence[str | None], options: ThemeOptions | None = None) -> list[OpinionTheme]:
    """Themes of the opinions with text, largest first (ties: earliest opinion first).

    Opinions alone in their cluster (or in one smaller than ``options.min_size``) are gathered in a
    last theme without a title, so every opinion with text is shown exactly once; opinions without
    text yet are in no theme.
    """
    options = options or OPINION_THEMES
    rows = [i for i, t in enumerate(texts) if t and t.strip()]
    labels = cluster([texts[i] or "" for i in rows], options)
    by_label: dict[int, list[int]] = defaultdict(list)
    for row, label in zip(rows, labels, strict=True):
        by_label[label].append(row)
    groups = sorted(by_label.values(), key=lambda g: (-len(g), g[0]))
    themes = [g for g in groups if len(g) >= max(2, options.min_size)]
    rest = sorted(i for g in groups if len(g) < max(2, options.min_size) for i in g)
    phrases = theme_phrases([[texts[i] or "" for i in g] for g in themes]) if themes else []
    out = [
        OpinionTheme(theme_title(p, [texts[i] or "" for i in g]), p, g)
        for g, p in zip(themes, phrases, strict=True)
    ]
    if rest:
        out.append(OpinionTheme("", [], rest))
    return out
