"""consultation: a consultation topic as a small public process (议题征求意见), not a label.

A topic is published (from a promoted theme's consultation topic, or directly, optionally with a
draft text split into numbered clauses) at a short public link; villagers' opinions on it are
suggestions of the ``consultation`` channel linked here (with a clause and a stance); staff record
the meeting held on it and its outcome, which the villagers of its theme then read on their
tracking page.

``words`` (stances, outcomes, meeting kinds and what people read for them), ``tables``, ``queries``
(reading) and ``flow`` (staff actions and the opinion link). Nothing here commits.

May import: models' shared modules, ``directory``, ``suggestions`` and ``themes``.
"""
