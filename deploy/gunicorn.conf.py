"""gunicorn for the REST API and pages (WSGI: 5-9x the ASGI throughput on 2 cores).

Sync workers, one request at a time each, behind nginx (compose): a worker takes the next
connection from the shared listen queue only when it is free, so a request waits for the first
free worker, never behind a busy one. With gthread (3 workers x 2 threads, keep-alive) each
worker accepted connections while busy and queued their requests behind its own: under 50
clients the cached-read p99 was 290-370 ms against 180-215 ms with 4-6 sync workers at the same
throughput (bench/load.py; docs/performance.md). nginx buffers requests and responses, so a
slow client never holds a worker, and it opens one upstream connection per request anyway
(no upstream keep-alive), which is all a sync worker serves. GUNICORN_THREADS > 1 switches
gunicorn to gthread workers.

With several worker processes, Prometheus metrics must be aggregated across them:
set PROMETHEUS_MULTIPROC_DIR to an empty, writable directory (the compose file does) and
django-prometheus' /metrics view reads every process's files.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "5"))  # 2 x cores + 1 on 2 cores
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "sync"  # gunicorn uses gthread instead when threads > 1
# A sync worker busy for longer than this is killed and replaced (the request gets a 502).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5  # gthread only: a sync worker closes every connection after its response
accesslog = None  # the app logs every request (structured, with its request id)
# Recycle workers against slow leaks, spread out: with 2,000 +- 200 the workers of an evenly
# loaded server reached the limit together and all rebooted at once (seconds with no worker;
# bench/load.py saw client timeouts). Half the limit as jitter keeps them apart.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 2
# Load the application once in the master and fork it: a worker (re)starts in milliseconds
# instead of a Django start-up (~2 s of CPU), and config.wsgi's gc.freeze() (core/gctune.py)
# keeps the loaded objects' pages shared between workers. Nothing opens a connection at import.
preload_app = True


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
