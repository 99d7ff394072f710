"""papers: written outputs made from the stored suggestions, for the township to hand on.

- The suggestion paper (建议书, a "micro-report" on one theme): ``facts`` gathers a theme's figures
  (suggestions, villagers, villages, months, statuses, handling times, ratings) and a few
  representative quotes with personal data removed (``models.privacy``); ``compose`` writes the
  draft text from them, Chinese or English; ``store`` keeps the text staff edited (table
  ``paper_drafts``) so the draft survives a reload, and ``guard`` keeps names, phone numbers and
  ID numbers out of every field.
- The problem micro-list (问题微清单, ``problems``): open suggestions of one village or one
  department, grouped by theme, oldest first, for deputies' visits.

Nothing here commits, and nothing here renders files (the PDF and .docx are written in api).

May import: any of models (it reads across domains, as reporting does); nothing in models imports it.
"""
