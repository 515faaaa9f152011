"""WSGI entry point: gunicorn serves the REST API and pages (faster than ASGI for plain HTTP)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

from core.middleware import wsgi_chunked_body

application = wsgi_chunked_body(get_wsgi_application())
