"""themes: suggestions about the same concrete issue, consultation topics and duplicate links.

May import: models' shared modules, ``directory`` and ``suggestions``.
"""
