"""The success message a staff page shows after its form redirected back (``?done=<key>``): every
such message in one place, as (Chinese, English)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import RedirectResponse

DONE_WORDS: dict[str, tuple[str, str]] = {
    # a suggestion's workflow actions (models.suggestions.action_table names them)
    "dispatch": ("已交办，承办方会在待办中看到。", "Dispatched; the holder sees it in their to-do list."),
    "accept": ("已签收。", "Accepted."),
    "start": ("已开始办理。", "Work started."),
    "resolve": ("已办结，群众查询时能看到办理结果。", "Resolved; the villager now sees the result."),
    "close": ("已关闭。", "Closed."),
    "return": ("已退回乡镇重新分流。", "Returned to the township for triage."),
    "extend": ("延期申请已提交，等待管理员批准。", "Extension requested; waiting for an administrator."),
    "chase": ("已催办。", "Chase recorded."),
    "approve_extension": ("已批准延期，办理期限已顺延。", "Extension approved; the deadline moved."),
    "reject_extension": ("已驳回延期申请。", "Extension rejected."),
    # departments, deputies, rules, deadlines
    "department": ("部门已保存。", "Department saved."),
    "deputy": ("代表已保存。", "Deputy saved."),
    "rule": ("路由规则已保存。", "Routing rule saved."),
    "rule_deleted": ("路由规则已删除。", "Routing rule removed."),
    "deadlines": ("办理期限已保存。", "Deadlines saved."),
    # accounts and the township vocabulary
    "account": ("账号已保存。", "Account saved."),
    "vocabulary": ("词表已保存。", "Vocabulary saved."),
    # themes and consultations
    "renamed": ("已改名。", "Renamed."),
    "merged": ("已合并。", "Merged."),
    "split": ("已拆分出新的集中问题。", "Split into a new theme."),
    "promoted": ("已列为协商议题。", "Made a consultation topic."),
    "published": ("已发布，可以把链接或二维码发给村民。", "Published; share the link or the QR code."),
    "stance": ("立场已更正。", "Stance corrected."),
    "meeting": ("会议记录已保存。", "Meeting recorded."),
    "outcome": (
        "结果已保存，提建议的村民查询时能看到。",
        "Outcome saved; the villagers who raised it see it.",
    ),
    # 乡长有约
    "raised": ("议题已提交，等乡长决定。", "Topic raised; it waits for the township head."),
    "accepted_invitation": ("已接受，约见已排上日程。", "Accepted; the meeting is on the calendar."),
    "declined": ("已告知代表不接受的理由。", "Declined; the deputy sees the reason."),
    "scheduled": ("已列入约见。", "Put on the session's agenda."),
    "visited": ("实地查看已记录。", "Site visit recorded."),
    "planned": ("定期约见已排好。", "Fixed sessions planned."),
    "held": ("已记为举行，议题转入座谈。", "Marked held; its topics are now discussed."),
    "item": ("事项已添加并交办给牵头部门。", "Item added and dispatched to its department."),
    "rated": ("满意度已记录。", "Rating recorded."),
}


def done_words(request: Request) -> tuple[str, str] | None:
    """The message for this page's ``?done=``, if it names one."""
    return DONE_WORDS.get(request.query_params.get("done") or "")


def redirect_done(path: str, done: str) -> RedirectResponse:
    """303 to ``path`` (its query and #fragment kept), saying ``done`` there."""
    assert done in DONE_WORDS, done
    parts = urlsplit(path)
    query = "&".join(q for q in (parts.query, urlencode({"done": done})) if q)
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=303)
