"""The suggestion paper's text, written from its facts in Chinese or English, and its guard.

A paper has a title, a background in figures, representative quotes, what departments have done
with villagers' ratings, and a proposal that staff write (left blank here). ``guard`` is applied to
every text a paper carries, generated or edited: it replaces the theme's villagers' own names and
phone numbers and any phone or ID-card number, so an edit cannot bring them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from models import privacy
from models.papers.facts import PaperFacts, Quote
from models.taxonomy import category_name
from models.vocabulary import status_name

#: The paper's sections as people read them: (Chinese, English). Pages and files use these.
HEADINGS: dict[str, tuple[str, str]] = {
    "title": ("标题", "Title"),
    "background": ("一、基本情况", "1. Background"),
    "quotes": ("二、群众反映（摘录）", "2. What villagers said"),
    "handling": ("三、办理情况", "3. What has been done"),
    "proposal": ("四、意见建议", "4. Proposal"),
    "appendix": ("附：数据", "Appendix: figures"),
    "villages": ("各村件数", "Suggestions per village"),
    "months": ("各月件数", "Suggestions per month"),
    "village": ("村", "Village"),
    "month": ("月份", "Month"),
    "count": ("件数", "Count"),
}
MAX_VILLAGES_NAMED = 8


@dataclass(frozen=True)
class Draft:
    """The paper's editable text."""

    title: str
    background: str
    quotes: list[str] = field(default_factory=list)
    handling: str = ""
    proposal: str = ""


def heading(key: str, lang: str) -> str:
    """A section heading in ``lang``."""
    zh, en = HEADINGS[key]
    return en if lang == "en" else zh


def _day(d: date, lang: str) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}" if lang == "en" else f"{d.year}年{d.month}月{d.day}日"


def _month(key: str, lang: str) -> str:
    year, month = key.split("-")
    return key if lang == "en" else f"{year}年{int(month)}月"


def _villages(facts: PaperFacts, lang: str) -> str:
    named = list(facts.villages.items())[:MAX_VILLAGES_NAMED]
    if lang == "en":
        text = ", ".join(f"{v} ({n})" for v, n in named)
        return text + (", and others" if len(facts.villages) > len(named) else "")
    text = "、".join(f"{v} {n} 件" for v, n in named)
    return text + ("等" if len(facts.villages) > len(named) else "")


def _trend(facts: PaperFacts, lang: str) -> str:
    if len(facts.months) < 2:
        return ""
    (last, n), (_, before) = facts.months[-1], facts.months[-2]
    change = n - before
    if lang == "en":
        how = f"{change} more than" if change > 0 else f"{-change} fewer than" if change < 0 else "as many as"
        return f" The latest month ({last}) had {n}, {how} the month before."
    how = f"增加 {change} 件" if change > 0 else f"减少 {-change} 件" if change < 0 else "持平"
    return f"最近一个月（{_month(last, lang)}）{n} 件，较上月{how}。"


def background(facts: PaperFacts, lang: str) -> str:
    """The background paragraph: how many, from whom, where, since when, the trend by month."""
    title, n, people = facts.title, facts.suggestions, facts.villagers
    unplaced = n - sum(facts.villages.values())
    since = _day(facts.first_on, lang) if facts.first_on else None
    if lang == "en":
        parts = [
            f"{'Since ' + since + ', ' if since else ''}{n} suggestion{'s' if n != 1 else ''} from about "
            f"{people} villager{'s' if people != 1 else ''} have raised “{title}” "
            f"({category_name(facts.category, 'en')})."
        ]
        if facts.villages:
            parts.append(f" They come from {len(facts.villages)} village(s): {_villages(facts, lang)}.")
        if unplaced:
            parts.append(f" {unplaced} did not name a village.")
        if facts.months:
            parts.append(" By month: " + ", ".join(f"{m}: {c}" for m, c in facts.months) + ".")
        return "".join(parts) + _trend(facts, lang)
    parts = [
        f"{'自' + since + '以来，' if since else ''}共收到村民关于“{title}”的建议 {n} 件"
        f"（{category_name(facts.category, 'zh')}类），涉及村民约 {people} 人"
    ]
    if facts.villages:
        parts.append(f"，来自 {len(facts.villages)} 个村：{_villages(facts, lang)}")
    if unplaced:
        parts.append(f"；另有 {unplaced} 件未注明村")
    parts.append("。")
    if facts.months:
        parts.append("按月统计：" + "、".join(f"{_month(m, lang)} {c} 件" for m, c in facts.months) + "。")
    return "".join(parts) + _trend(facts, lang)


def quote_line(quote: Quote, lang: str) -> str:
    """A quote with where and when it came from (never who)."""
    if lang == "en":
        where = f"a villager of {quote.village}" if quote.village else "a villager"
        return f"“{quote.text}” ({where}, {_day(quote.submitted_on, lang)})"
    where = f"{quote.village}村民" if quote.village else "村民"
    return f"“{quote.text}”（{where}，{_day(quote.submitted_on, lang)}）"


def handling(facts: PaperFacts, lang: str) -> str:
    """What departments did (statuses, handling times, answers) and how villagers rated it."""
    en = lang == "en"
    statuses = (", " if en else "、").join(
        f"{status_name(s, lang)} {n}" + ("" if en else " 件") for s, n in facts.statuses.items()
    )
    if en:
        parts = [
            f"Of the {facts.suggestions}, {facts.done} are done and {facts.open} still open ({statuses})."
        ]
    else:
        parts = [
            f"目前，{facts.suggestions} 件建议中已办结 {facts.done} 件，"
            f"尚在办理或待处理 {facts.open} 件（{statuses}）。"
        ]
    if facts.departments:
        lines = []
        for d in facts.departments:
            days = d.mean_days_to_resolve
            if en:
                took = f", taking {days:.1f} days on average" if days is not None else ""
                lines.append(f"{d.name_en} held {d.held} and resolved {d.resolved}{took}")
            else:
                took = f"，平均办理用时 {days:.1f} 天" if days is not None else ""
                lines.append(f"{d.name_zh}承办 {d.held} 件，已办结 {d.resolved} 件{took}")
        parts.append(" " + "; ".join(lines) + "." if en else "；".join(lines) + "。")
    else:
        parts.append(" None has been sent to a department yet." if en else "尚未交办相关部门。")
    if facts.result_notes:
        notes = ("; " if en else "；").join(f"“{n}”" for n in facts.result_notes)
        parts.append(f" Departments answered: {notes}." if en else f"部门答复摘录：{notes}。")
    parts.append(_ratings(facts, lang))
    return "".join(parts)


def _ratings(facts: PaperFacts, lang: str) -> str:
    r = facts.ratings
    satisfied = facts.satisfaction_distribution.get(4, 0) + facts.satisfaction_distribution.get(5, 0)
    if lang == "en":
        if not r:
            return " No villager has rated the handling yet."
        if facts.satisfaction_mean is None:
            return f" {r} villager(s) rated it: fewer than {facts.min_ratings}, too few for an average."
        people = f"{r} villager{'s' if r != 1 else ''}"
        mean = f"{facts.satisfaction_mean:.2f}"
        return f" {people} rated it: {mean} out of 5 on average, {satisfied} satisfied (4–5)."
    if not r:
        return "暂无村民评价。"
    if facts.satisfaction_mean is None:
        return f"已有 {r} 位村民作出评价，少于 {facts.min_ratings} 条，暂不计算平均满意度。"
    mean = f"{facts.satisfaction_mean:.2f}"
    return f"已有 {r} 位村民作出评价，平均满意度 {mean} 分（满分 5 分），其中满意（4–5 分）{satisfied} 件。"


def compose(facts: PaperFacts, lang: str = "zh") -> Draft:
    """The generated draft of a paper (the proposal is left for staff to write)."""
    title = f"Suggestion on {facts.title}" if lang == "en" else f"关于{facts.title}的建议"
    draft = Draft(
        title=title,
        background=background(facts, lang),
        quotes=[quote_line(q, lang) for q in facts.quotes],
        handling=handling(facts, lang),
        proposal="",
    )
    return guard(draft, facts.known_names, facts.known_phones)


def guard_text(text: str, names: Iterable[str] = (), phones: Iterable[str] = ()) -> str:
    """``text`` without the given names and phone numbers, nor any phone or ID-card number."""
    m = privacy.markers_for(text)
    for value in sorted({v.strip() for v in phones if v and len(v.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(value, m.phone)
    for value in sorted({v.strip() for v in names if v and len(v.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(value, m.name)
    text = privacy.ID_CARD.sub(m.id_number, text)
    text = privacy.MOBILE.sub(m.phone, text)
    return privacy.LANDLINE.sub(m.phone, text)


def guard(draft: Draft, names: Iterable[str] = (), phones: Iterable[str] = ()) -> Draft:
    """Every field of ``draft`` through ``guard_text``; quotes (villagers' words) through the full
    ``privacy.scrub`` as well."""
    names, phones = list(names), list(phones)

    def clean(text: str) -> str:
        return guard_text(text, names, phones)

    return replace(
        draft,
        title=clean(draft.title),
        background=clean(draft.background),
        quotes=[clean(privacy.scrub(q, names=names, phones=phones)) for q in draft.quotes],
        handling=clean(draft.handling),
        proposal=clean(draft.proposal),
    )
