"""Prometheus metrics of the stream (exported at /metrics with the rest)."""

from prometheus_client import Counter, Gauge

PUBLISHED = Counter(
    "cryptocast_stream_published_total", "Messages appended to the stream log", ["family"]
)
PUBLISH_FAILURES = Counter(
    "cryptocast_stream_publish_failures_total",
    "publish() calls that failed (logged; ingestion went on)",
    ["family"],
)
DELIVERED = Counter(
    "cryptocast_stream_frames_sent_total", "Frames sent to clients", ["transport", "type"]
)
COALESCED = Counter(
    "cryptocast_stream_coalesced_total", "Updates merged into a pending one for a slow client"
)
CONNECTIONS = Gauge(
    "cryptocast_stream_connections", "Open stream connections in this process", ["transport"]
)
CLOSED = Counter(
    "cryptocast_stream_closed_total", "Connections closed by the server, by reason", ["reason"]
)
