# One image for every process (web, ws, worker, beat); the command picks the role.
FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 curl \
    && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN DJANGO_SETTINGS_MODULE=config.settings.base python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 app && mkdir -p /app/var /app/models/artifacts /tmp/prometheus \
    && chown -R app /app/var /app/models /tmp/prometheus
USER app
ENV DJANGO_SETTINGS_MODULE=config.settings.production STATIC_ROOT=/app/var/static
EXPOSE 8000 8001
CMD ["gunicorn", "config.wsgi:application", "-c", "deploy/gunicorn.conf.py"]
