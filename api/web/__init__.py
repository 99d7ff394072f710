"""Server-rendered staff and villager pages: Jinja2 templates, one stylesheet, a little JavaScript.

Every page extends ``templates/base.html``. Text is bilingual in the template itself:
``{{ tr("待审核", "To review") }}`` picks the page language (Chinese by default; ``?lang=en``
switches and remembers the choice in a cookie), so no message catalogue has to be kept in step.
"""
