"""Suggestion statuses and channels: their values, their groups, and the words people read for them.

The one home of these rules: the database stores the enum values (plain strings, so it stays
readable), and every other module reads the groups and words from here.
"""

from __future__ import annotations

from enum import StrEnum

from models.taxonomy import category_name


class Status(StrEnum):
    """Where a suggestion stands, from upload to closing."""

    RECEIVED = "received"
    TRANSCRIBED = "transcribed"
    CLASSIFIED = "classified"
    NEEDS_REVIEW = "needs_review"
    ROUTED = "routed"
    FAILED = "failed"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    # An opinion on a consultation topic, its stance classified: it stays with the topic's own
    # process (never routed to a department) and the topic's outcome is its answer.
    RECORDED = "recorded"


class Channel(StrEnum):
    """How a suggestion came in."""

    VOICE = "voice"
    TEXT = "text"
    OPEN311 = "open311"
    APPOINTMENT = "appointment"  # an agenda item of 乡长有约, raised by a deputy, not a villager
    CONSULTATION = "consultation"  # a villager's opinion on a published topic (models.consultation)


#: Still being processed by the worker: nothing for staff to decide yet.
IN_PROCESSING: tuple[Status, ...] = (Status.RECEIVED, Status.TRANSCRIBED)
#: Still with the machine (transcribing, classifying): the villager's tracking page refreshes itself.
BEING_PROCESSED: tuple[Status, ...] = (*IN_PROCESSING, Status.CLASSIFIED)
#: Someone is responsible and the deadline runs (in the order the work goes).
ON_THE_CLOCK: tuple[Status, ...] = (Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS)
#: With a department: routed and waiting to be dispatched, or on the clock.
AWAITING_HANDLING: tuple[Status, ...] = (Status.ROUTED, *ON_THE_CLOCK)
#: The work is done (the villager may rate it); Open311 calls these "closed".
DONE: tuple[Status, ...] = (Status.RESOLVED, Status.CLOSED)
#: Someone still has to handle it: a new suggestion like one of these is "already being handled".
OPEN: tuple[Status, ...] = (Status.CLASSIFIED, Status.NEEDS_REVIEW, *AWAITING_HANDLING)
#: A corrected category still changes where the suggestion goes (it is not with a department yet).
NOT_YET_DISPATCHED: tuple[Status, ...] = (
    Status.CLASSIFIED,
    Status.NEEDS_REVIEW,
    Status.ROUTED,
    Status.FAILED,
)
#: Routed to a department, whatever happened after.
ROUTED_OR_LATER: tuple[Status, ...] = (*AWAITING_HANDLING, *DONE)

#: Channels through which a member of the public submits a suggestion of their own: the public
#: Open311 feed and the problem lists show these. Every other one is internal, or (an opinion on a
#: published consultation topic) belongs to that topic's own process and pages.
PUBLIC_CHANNELS: tuple[Channel, ...] = (Channel.VOICE, Channel.TEXT, Channel.OPEN311)


class Role(StrEnum):
    """What a staff account may do; an account has one or more."""

    ADMIN = "admin"
    REVIEWER = "reviewer"
    HANDLER = "handler"
    DEPUTY = "deputy"
    # Holds the transcribe permission: a machine client of the OpenAI-compatible transcription
    # API (POST /v1/audio/transcriptions, GET /v1/models), seeing nothing of the suggestions.
    TRANSCRIBER = "transcriber"


#: The roles of people who work on suggestions: "any staff member" means an account holding one of
#: these (a transcription client alone sees no suggestion).
STAFF_ROLES: tuple[Role, ...] = (Role.ADMIN, Role.REVIEWER, Role.HANDLER, Role.DEPUTY)

#: What people read for each role: (Chinese, English).
ROLE_NAMES: dict[Role, tuple[str, str]] = {
    Role.ADMIN: ("管理员", "Administrator"),
    Role.REVIEWER: ("审核员", "Reviewer"),
    Role.HANDLER: ("部门承办人", "Department handler"),
    Role.DEPUTY: ("人大代表", "People's deputy"),
    Role.TRANSCRIBER: ("语音转写接口", "Transcription API client"),
}

#: What staff read for each status: (Chinese, English).
STATUS_NAMES: dict[str, tuple[str, str]] = {
    Status.RECEIVED: ("已收到", "Received"),
    Status.TRANSCRIBED: ("已转写", "Transcribed"),
    Status.CLASSIFIED: ("已分类", "Classified"),
    Status.NEEDS_REVIEW: ("待核对", "Needs review"),
    Status.ROUTED: ("待交办", "Routed"),
    Status.FAILED: ("处理失败", "Failed"),
    Status.DISPATCHED: ("待签收", "Dispatched"),
    Status.ACCEPTED: ("已签收", "Accepted"),
    Status.IN_PROGRESS: ("办理中", "In progress"),
    Status.RESOLVED: ("已办结", "Resolved"),
    Status.CLOSED: ("已关闭", "Closed"),
    Status.RECORDED: ("已记入议题", "Recorded on the topic"),
}

#: What a villager reads on the tracking page for each status: (Chinese, English).
VILLAGER_STATUS_WORDS: dict[str, tuple[str, str]] = {
    Status.RECEIVED: ("已收到，正在处理", "Received, being processed"),
    Status.TRANSCRIBED: ("已收到，正在处理", "Received, being processed"),
    Status.CLASSIFIED: ("已收到，正在处理", "Received, being processed"),
    Status.NEEDS_REVIEW: ("工作人员正在核对", "Being checked by staff"),
    Status.ROUTED: ("已转交相关部门", "Passed to the responsible department"),
    Status.DISPATCHED: ("已交办，等待签收", "Sent to the people who will handle it"),
    Status.ACCEPTED: ("已签收，即将办理", "Accepted by the people handling it"),
    Status.IN_PROGRESS: ("正在办理", "Being worked on"),
    Status.RESOLVED: ("已办结，请您评价", "Done; please tell us if you are satisfied"),
    Status.CLOSED: ("已办结", "Done and closed"),
    Status.FAILED: ("工作人员正在人工处理", "Being handled by staff by hand"),
    Status.RECORDED: ("您的意见已记入议题", "Your opinion is recorded on the topic"),
}

#: What happens next, for the villager reading the tracking page: (Chinese, English).
VILLAGER_NEXT_STEP: dict[str, tuple[str, str]] = {
    Status.RECEIVED: (
        "系统正在把您的建议转成文字并分类，一般几分钟就好。这一页会自动刷新。",
        "We are turning your note into text and sorting it; this usually takes a few minutes. "
        "This page updates by itself.",
    ),
    Status.TRANSCRIBED: (
        "系统正在给您的建议分类，马上就好。这一页会自动刷新。",
        "We are sorting your suggestion; it will be done shortly. This page updates by itself.",
    ),
    Status.CLASSIFIED: (
        "系统正在把您的建议交给负责的部门，马上就好。这一页会自动刷新。",
        "We are passing your suggestion to the responsible department; it will be done shortly. "
        "This page updates by itself.",
    ),
    Status.NEEDS_REVIEW: (
        "工作人员会看一下您的建议，再交给负责的部门。您不需要重新提交。",
        "A member of staff will look at your suggestion and pass it to the responsible department. "
        "You do not need to send it again.",
    ),
    Status.ROUTED: (
        "乡镇会把您的建议正式交给这个部门办理，并定下办理期限。",
        "The township will formally hand your suggestion to this department, with a deadline.",
    ),
    Status.DISPATCHED: (
        "部门签收后就会开始办理，办理有期限，乡镇会督促。",
        "The department will accept it and start work; there is a deadline and the township follows it up.",
    ),
    Status.ACCEPTED: (
        "部门已经签收，很快会开始办理。",
        "The department has accepted it and will start work soon.",
    ),
    Status.IN_PROGRESS: (
        "部门正在办理。办完后，结果会写在这一页上。",
        "The department is working on it. When it is done, the result will be shown on this page.",
    ),
    Status.RESOLVED: (
        "请看上面的办理结果，并告诉我们您是否满意。",
        "Please read the result above and tell us whether you are satisfied.",
    ),
    Status.CLOSED: (
        "这件事已经办完了。如果有新的问题，可以再提一条建议。",
        "This matter is finished. If there is a new problem, you can send another suggestion.",
    ),
    Status.FAILED: (
        "系统没能自动处理您的建议，工作人员会人工处理。您不需要重新提交。",
        "We could not process your note automatically; staff will handle it by hand. "
        "You do not need to send it again.",
    ),
    Status.RECORDED: (
        "您的意见会在议题的协商中一并考虑。议题有了结果，会写在议题页面上。",
        "Your opinion will be weighed with the others in the consultation. When the topic has an "
        "outcome, it will be shown on the topic's page.",
    ),
}

#: What staff read for each channel: (Chinese, English).
CHANNEL_NAMES: dict[Channel, tuple[str, str]] = {
    Channel.VOICE: ("语音", "Voice"),
    Channel.TEXT: ("文字", "Text"),
    Channel.OPEN311: ("Open311 接口", "Open311"),
    Channel.APPOINTMENT: ("乡长有约", "Appointment"),
    Channel.CONSULTATION: ("议题意见", "Consultation opinion"),
}


def status_name(status: str, lang: str = "zh") -> str:
    """The staff-facing word for a status (the code itself for one this version does not know)."""
    zh, en = STATUS_NAMES.get(status, (status, status))
    return en if lang == "en" else zh


#: Every kind of event a suggestion's history records, and the words staff read for it. An event of
#: a kind missing here cannot be stored (models.suggestions.tables.Event checks), so none shows a code.
EVENT_NAMES: dict[str, tuple[str, str]] = {
    "received": ("收到", "Received"),
    "transcribed": ("已转文字", "Transcribed"),
    "classified": ("已分类", "Classified"),
    "routed": ("已分流", "Routed"),
    "needs_review": ("转人工核对", "Sent to staff review"),
    "failed": ("处理失败", "Processing failed"),
    "reviewed": ("人工核对", "Reviewed"),
    "reclassified": ("重新分类", "Reclassified"),
    "duplicate_suspected": ("疑似重复", "Possible duplicate"),
    "dispatched": ("交办", "Dispatched"),
    "accepted": ("签收", "Accepted"),
    "in_progress": ("开始办理", "Work started"),
    "resolved": ("办结", "Resolved"),
    "closed": ("关闭", "Closed"),
    "returned": ("退回", "Returned"),
    "extension_requested": ("申请延期", "Extension requested"),
    "extension_approved": ("批准延期", "Extension approved"),
    "extension_rejected": ("驳回延期", "Extension rejected"),
    "chased": ("催办", "Chased"),
    "rated": ("群众评价", "Rated by the villager"),
    "reopened": ("群众反映未解决，重新交办", "Reopened: the villager says it is not fixed"),
    "confirmed_fixed": ("群众确认已解决", "The villager confirmed it is fixed"),
    "opinion_recorded": ("意见已记入议题", "Opinion recorded on the topic"),
}

#: Actors that are not staff accounts, as the history names them.
SYSTEM_ACTORS: dict[str, tuple[str, str]] = {
    "worker": ("系统", "System"),
    "villager": ("村民", "Villager"),
    "themes-job": ("系统", "System"),
}


def actor_name(actor: str, display_names: dict[str, str], lang: str = "zh") -> str:
    """Who an event names: the system or the villager in words, a staff member by display name."""
    words = SYSTEM_ACTORS.get(actor)
    if words is not None:
        return words[1] if lang == "en" else words[0]
    return display_names.get(actor, actor)


def event_name(kind: str, lang: str = "zh") -> str:
    """The staff-facing words for a kind of history event."""
    zh, en = EVENT_NAMES.get(kind, (kind, kind))
    return en if lang == "en" else zh


#: The words staff read for the fields of a history event's detail and of an audit entry's before
#: and after (record_fields); a field missing here shows its key.
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "channel": ("渠道", "Channel"),
    "text": ("内容", "Text"),
    "category": ("类别", "Category"),
    "confidence": ("置信度", "Confidence"),
    "classifier_version": ("分类模型版本", "Classifier version"),
    "reason": ("原因", "Reason"),
    "department": ("部门", "Department"),
    "department_code": ("部门", "Department"),
    "deputy": ("代表", "Deputy"),
    "note": ("备注", "Note"),
    "due_at": ("办理期限", "Due"),
    "result_note": ("办理结果", "Result"),
    "request": ("延期申请", "Extension request"),
    "days": ("天数", "Days"),
    "satisfaction": ("满意度", "Satisfaction"),
    "comment": ("评价", "Comment"),
    "duplicate_of": ("疑似重复于", "Possible duplicate of"),
    "similarity": ("相似度", "Similarity"),
    "matched_on": ("依据", "Matched on"),
    "error": ("错误", "Error"),
    "code": ("代码", "Code"),
    "name": ("姓名", "Name"),
    "name_zh": ("中文名称", "Chinese name"),
    "name_en": ("英文名称", "English name"),
    "username": ("账号", "Account"),
    "village": ("村", "Village"),
    "phone": ("电话", "Phone"),
    "active": ("在任", "Active"),
    "title": ("标题", "Title"),
    "description": ("说明", "Description"),
    "topic": ("议题", "Topic"),
    "theme": ("主题", "Theme"),
    "clauses": ("条款数", "Clauses"),
    "stance": ("立场", "Stance"),
    "outcome": ("结果", "Outcome"),
    "members": ("件数", "Members"),
    "merged": ("合并", "Merged"),
    "label": ("名称", "Label"),
    "status": ("状态", "Status"),
}

#: Fields a row need not repeat: a history row names who acted, an audit row the account it changed.
_UNSHOWN_FIELDS = frozenset({"returned_by", "username"})


def _field_value(key: str, value: object, lang: str, departments: dict[str, tuple[str, str]]) -> str:
    en = lang == "en"
    if isinstance(value, bool):
        return ("yes" if value else "no") if en else ("是" if value else "否")
    if key == "channel" and value in CHANNEL_NAMES:
        zh, en_word = CHANNEL_NAMES[Channel(str(value))]
        return en_word if en else zh
    if key == "category" and isinstance(value, str):
        return category_name(value, lang)
    if key in ("department", "department_code") and isinstance(value, str) and value in departments:
        zh, en_word = departments[value]
        return en_word if en else zh
    if key == "status" and isinstance(value, str):
        return status_name(value, lang)
    if key == "due_at" and isinstance(value, str):
        return value[:10]
    if key in ("confidence", "similarity") and isinstance(value, float):
        return f"{value:.0%}"
    if key == "satisfaction" and isinstance(value, int):
        return "★" * value
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in record_fields(value, lang, departments))
    return str(value)


def record_fields(
    detail: dict[str, object] | None, lang: str = "zh", departments: dict[str, tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """A history event's detail, or an audit entry's before or after, as (field, value) words:
    codes become display names (``departments``: code → (Chinese, English)), empty fields drop."""
    rows = []
    for key, value in (detail or {}).items():
        if value is None or value == "" or key in _UNSHOWN_FIELDS:
            continue
        zh, en = FIELD_NAMES.get(key, (key, key))
        rows.append((en if lang == "en" else zh, _field_value(key, value, lang, departments or {})))
    return rows


#: What the audit trail names for the things staff changed, and for the change: (Chinese, English).
AUDIT_ENTITY_NAMES: dict[str, tuple[str, str]] = {
    "department": ("部门", "Department"),
    "deputy": ("代表", "Deputy"),
    "routing_rule": ("路由规则", "Routing rule"),
    "deadline": ("办理期限", "Deadline"),
    "theme": ("集中问题", "Theme"),
    "consultation_topic": ("协商议题", "Consultation topic"),
    "consultation": ("征求意见", "Consultation"),
    "consultation_opinion": ("意见立场", "Opinion stance"),
    "consultation_meeting": ("协商会议", "Consultation meeting"),
}
AUDIT_ACTION_NAMES: dict[str, tuple[str, str]] = {
    "create": ("新增", "Created"),
    "update": ("修改", "Updated"),
    "delete": ("删除", "Removed"),
}
