"""Server-rendered staff and villager pages: Jinja2 templates, one stylesheet, a little JavaScript.

Every page extends ``templates/base.html``. Text is written in English and translated through the
message catalogue (``api/i18n.py``): ``{{ _("To review") }}``, ``{{ _("Sent on %(day)s", day=d) }}``
or ``{% trans %}``; the page language is Chinese by default, ``?lang=en`` switches and remembers the
choice in a cookie. ``make messages`` adds new texts to the catalogue, to be translated there. A
record stored in both languages (a department's ``name_zh``/``name_en``) is data, not a message:
``{{ pick(d.name_zh, d.name_en) }}``. ``local_time(t)`` shows a stored time in the township's zone.

Every page also gets ``staff`` (the signed-in ``api.auth.Staff`` or None) and ``csrf_token``. A form
that changes data carries ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``;
JavaScript sends ``document.querySelector('meta[name=csrf-token]').content`` as ``X-CSRF-Token``.
The Content-Security-Policy (api/security_headers.py) allows scripts only from /static: no inline
``<script>`` blocks or ``onclick=`` attributes. Staff pages add their links to
``templates/_staff_nav.html``.
"""
