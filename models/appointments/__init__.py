"""appointments: the appointment with the township head (乡长有约) — requests, sessions, agenda items.

May import: models' shared modules, ``directory``, ``suggestions`` and ``themes``.
"""
