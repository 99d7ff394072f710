"""Database ids as request parameters: bounded so an absurd number is a 422, not a database error."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_ID = 2_147_483_647  # the largest INTEGER every supported database stores

PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="A record's number.")]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
