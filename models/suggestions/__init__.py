"""suggestions: a villager's suggestion from submission to closure — its tables and queries, the
workflow's action table and transitions (``lifecycle``, ``actions``), rating, contact visibility,
idempotency keys and the Open311 request query.

May import: models' shared modules and ``directory``.
"""
