"""staff: staff accounts, their roles, login sessions and API tokens.

May import: models' shared modules and ``directory`` (a handler belongs to a department).
"""
