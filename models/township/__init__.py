"""township: the township's own words — place, road and village names, department names and the
terms clerks type when they correct a transcript — that speech recognition is told to expect.

May import: models' shared modules and ``directory``.
"""
