"""jobs: the job table and queue — enqueue (announced after commit), leases, retries, the broker
outbox. The kinds of job and their handlers live with their domain outside models.

May import: models' shared modules only.
"""
