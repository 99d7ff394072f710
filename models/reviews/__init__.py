"""reviews: staff review and learning — decisions, labelled examples, retraining runs, classifier
versions, their artefacts and cached sentence vectors.

May import: models' shared modules, ``directory``, ``suggestions`` and ``township`` (a corrected
transcript teaches the township vocabulary).
"""
