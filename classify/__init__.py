"""classify: text in, category out; training, evaluation, and stored model versions; the jobs
that learn from staff decisions (``retraining``) and group suggestions into themes (``theme_jobs``).

May import: models. Never intake or api.
"""
