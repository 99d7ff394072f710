"""transcriptions: requests of the OpenAI-compatible transcription API — an audio file waiting for
the worker, then its transcript waiting for the request that asked for it. These are not
villagers' suggestions: nothing here is shown to staff, classified or routed.

May import: models' shared modules only.
"""
