"""intake: audio in, transcript out; one submission through every stage, and running jobs (any
domain's kinds, handed to the runner by the modules that own them).

Jobs run on the embedded runner's threads (``jobs``) or, with a broker, are published to Celery
workers (``broker``); recordings are kept in a local directory or an S3-compatible store
(``storage``).

May import: classify, models (and third-party libraries such as celery and boto3). Never api.
"""
