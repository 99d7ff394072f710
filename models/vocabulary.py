"""Suggestion statuses and channels: their values, their groups, and the words people read for them.

The one home of these rules: the database stores the enum values (plain strings, so it stays
readable), and every other module reads the groups and words from here.
"""

from __future__ import annotations

from enum import StrEnum


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


class Channel(StrEnum):
    """How a suggestion came in."""

    VOICE = "voice"
    TEXT = "text"
    OPEN311 = "open311"
    APPOINTMENT = "appointment"  # an agenda item of 乡长有约, raised by a deputy, not a villager


#: Still being processed by the worker: nothing for staff to decide yet.
IN_PROCESSING: tuple[Status, ...] = (Status.RECEIVED, Status.TRANSCRIBED)
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

#: Channels through which a member of the public submits; every other one is internal.
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
}

#: What staff read for each channel: (Chinese, English).
CHANNEL_NAMES: dict[Channel, tuple[str, str]] = {
    Channel.VOICE: ("语音", "Voice"),
    Channel.TEXT: ("文字", "Text"),
    Channel.OPEN311: ("Open311 接口", "Open311"),
    Channel.APPOINTMENT: ("乡长有约", "Appointment"),
}


def status_name(status: str, lang: str = "zh") -> str:
    """The staff-facing word for a status (the code itself for one this version does not know)."""
    zh, en = STATUS_NAMES.get(status, (status, status))
    return en if lang == "en" else zh
