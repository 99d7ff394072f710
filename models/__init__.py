"""models: stored data: SQLAlchemy tables, queries, migrations, and the shared domain errors.

Imports nothing of ours.
"""
