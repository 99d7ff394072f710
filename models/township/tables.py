"""The township vocabulary table: one row per term, where it came from and how often it was seen."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

# Longest term an admin may type (a long village or road name with its township still fits).
MAX_TERM_CHARS = 20


class TermSource(StrEnum):
    """Where a term first came from."""

    CORRECTION = "correction"  # a clerk's correction of a machine transcript added it
    VILLAGE = "village"  # a village named in a routing rule or a deputy's record
    DEPARTMENT = "department"  # a department's Chinese name
    ADMIN = "admin"  # an admin typed it on the vocabulary page


#: What the vocabulary page says for each source: (Chinese, English).
SOURCE_NAMES: dict[str, tuple[str, str]] = {
    TermSource.CORRECTION: ("核对时的更正", "A clerk's correction"),
    TermSource.VILLAGE: ("村名", "Village name"),
    TermSource.DEPARTMENT: ("部门名称", "Department name"),
    TermSource.ADMIN: ("管理员添加", "Added by an admin"),
}


class Term(Base):
    """A word speech recognition should expect. Disabled terms are kept (and not re-collected)."""

    __tablename__ = "township_terms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(MAX_TERM_CHARS), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
