"""The Celery app. Tasks live in each domain app's ``tasks.py``; beat reads its schedule from
the database (django-celery-beat) so staff can edit it in the admin."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("cryptocast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
