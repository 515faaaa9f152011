"""WSGI entry point: gunicorn serves the REST API and pages (faster than ASGI for plain HTTP)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

# django.setup() first: core.middleware imports Django's auth middleware, which needs the
# app registry (importing it before this line killed every gunicorn worker at boot).
django_application = get_wsgi_application()

from core.gctune import tune_for_server  # noqa: E402
from core.middleware import wsgi_chunked_body  # noqa: E402

application = wsgi_chunked_body(django_application)
# Everything is loaded: freeze it out of the collector's way (core/gctune.py).
tune_for_server()
