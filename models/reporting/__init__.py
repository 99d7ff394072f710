"""reporting: read models over everything — the micro-report, the supervision board, overdue
lists. Reads every domain; nothing else in models imports it.

May import: any of models.
"""
