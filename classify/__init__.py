"""classify: text in, category out; training, evaluation, and stored model versions.

May import: models (the classifier registry only). Never intake or api.
"""
