"""Server-rendered staff and villager pages: Jinja2 templates, one stylesheet, a little JavaScript.

Every page extends ``templates/base.html``. Text is bilingual in the template itself:
``{{ tr("待审核", "To review") }}`` picks the page language (Chinese by default; ``?lang=en``
switches and remembers the choice in a cookie), so no message catalogue has to be kept in step.

Every page also gets ``staff`` (the signed-in ``api.auth.Staff`` or None) and ``csrf_token``. A form
that changes data carries ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``;
JavaScript sends ``document.querySelector('meta[name=csrf-token]').content`` as ``X-CSRF-Token``.
The Content-Security-Policy (api/security_headers.py) allows scripts only from /static: no inline
``<script>`` blocks or ``onclick=`` attributes. Staff pages add their links to
``templates/_staff_nav.html``.
"""
