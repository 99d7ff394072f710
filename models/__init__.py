"""models: stored data: SQLAlchemy tables, queries, migrations, and the shared domain errors.

Also the rules that belong to the data: the workflow's transition table and actions
(``lifecycle``), admin-managed departments, deputies, rules and deadlines with their audit trail
(``directory``), overdue and board aggregates (``supervision``) and the Open311 request query
(``open311``). Nothing here commits; the unit of work (``db.unit_of_work``) does.

Imports nothing of ours.
"""

# Every table module registers its tables on models.base.Base when imported; importing them here
# means any use of the package sees the whole schema (relationships by name, Alembic, create_all).
from models import (  # noqa: F401
    appointments,
    artefacts,
    idempotency,
    reviews,
    staff,
    tables,
    themes,
    transcriptions,
    workflow,
)
