"""The problem micro-list (问题微清单): a village's or a department's open problems, printable.

Any signed-in staff member may read it (deputies take it on their visits; handlers, clerks and
admins use it too); villagers have no account, so they never reach it. ``/staff/problems`` without
a village or department lists both with their counts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from api.paper_schemas import ProblemGroupOut, ProblemListOut, ProblemOut
from api.staff import ClockDep, StaffDep
from api.web.templating import render
from models.papers import problems

router = APIRouter(tags=["problems"])

Village = Annotated[str | None, Query(max_length=problems.MAX_VILLAGE_CHARS, description="A village's name.")]
DepartmentCode = Annotated[str | None, Query(max_length=64, description="A department's code.")]


def list_out(found: problems.ProblemList) -> ProblemListOut:
    """The API shape of a micro-list."""
    return ProblemListOut(
        scope=found.scope,
        key=found.key,
        name_zh=found.name_zh,
        name_en=found.name_en,
        generated_at=found.generated_at,
        total=found.total,
        truncated=found.truncated,
        groups=[
            ProblemGroupOut(
                theme_id=g.theme_id,
                theme_title=g.theme_title,
                category=g.category,
                problems=[
                    ProblemOut(
                        id=p.id,
                        tracking_code=p.tracking_code,
                        submitted_at=p.submitted_at,
                        village=p.village,
                        category=p.category,
                        status=p.status,
                        department_code=p.department_code,
                        due_at=p.due_at,
                        overdue=p.overdue,
                        text=p.text,
                    )
                    for p in g.problems
                ],
            )
            for g in found.groups
        ],
    )


@router.get("/api/v1/problems", response_model=ProblemListOut)
def read_problem_list(
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
    village: Village = None,
    department: DepartmentCode = None,
) -> ProblemListOut:
    """Open problems of one village or one department, grouped by theme, oldest first."""
    return list_out(problems.problem_list(session, clock(), village=village, department=department))


@router.get("/staff/problems", response_class=HTMLResponse, include_in_schema=False)
def problem_list_page(
    request: Request,
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
    village: Village = None,
    department: DepartmentCode = None,
) -> HTMLResponse:
    """The printable micro-list of a village or department, or the index of both."""
    now = clock()
    if not (village or "").strip() and not (department or "").strip():
        villages, departments = problems.scopes(session, now)
        return render(
            request, "staff_problems.html", {"list": None, "villages": villages, "departments": departments}
        )
    found = problems.problem_list(session, now, village=village, department=department)
    return render(request, "staff_problems.html", {"list": found, "now": now})
