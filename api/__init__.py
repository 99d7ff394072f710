"""api: the FastAPI app, the web pages, the command line and the settings.

May import: intake, classify, models.
"""
