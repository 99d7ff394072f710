"""directory: what admins manage — departments, routing rules, deputies, deadlines — and the audit
log of every change, plus routing reads (which department a category goes to).

May import: models' shared modules (base, db, errors, vocabulary, taxonomy).
"""
