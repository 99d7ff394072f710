"""models: stored data, one subpackage per domain, each with its tables and its queries or flow.

- ``directory`` (departments, routing, deputies, deadlines, audit), ``suggestions`` (the suggestion,
  its workflow and rating), ``jobs`` (the queue), ``staff``, ``themes``, ``appointments``, ``reviews``
  (review and learning), ``consultation`` (published topics, their opinions, meetings and
  outcomes), ``transcriptions`` (requests of the OpenAI-compatible API), ``township`` (the words
  recognition should expect), ``reporting`` and ``papers`` (read models and written outputs over
  all of them; imported by none).
- Shared by all: ``base`` (the declarative base), ``db`` (engines, the unit of work, upgrades),
  ``errors`` (semantic domain errors), ``vocabulary`` (statuses, channels, roles), ``taxonomy``
  (categories), ``privacy`` and ``hashing``.

Nothing here commits; the unit of work (``db.unit_of_work``) does. Imports nothing of ours.
"""

# Every table module registers its tables on models.base.Base when imported; importing them here
# means any use of the package sees the whole schema (relationships by name, Alembic, create_all).
from models.appointments import tables as _appointments  # noqa: F401
from models.consultation import tables as _consultation  # noqa: F401
from models.directory import tables as _directory  # noqa: F401
from models.jobs import tables as _jobs  # noqa: F401
from models.papers import tables as _papers  # noqa: F401
from models.reviews import artefacts as _artefacts  # noqa: F401
from models.reviews import tables as _reviews  # noqa: F401
from models.staff import tables as _staff  # noqa: F401
from models.suggestions import idempotency as _idempotency  # noqa: F401
from models.suggestions import tables as _suggestions  # noqa: F401
from models.themes import tables as _themes  # noqa: F401
from models.township import tables as _township  # noqa: F401
from models.transcriptions import tables as _transcriptions  # noqa: F401
