"""intake: audio in, transcript out; one submission through every stage, and the job runner.

May import: classify, models. Never api.
"""
