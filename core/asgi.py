"""Django's ASGI handler without its two per-request thread hops when nothing needs a thread.

Django's ``ASGIHandler.handle`` sends ``request_started`` through ``Signal.asend`` (its sync
receivers run in one ``sync_to_async`` hop) and calls ``response.close()`` (which sends
``request_finished``) through ``sync_to_async``: two hops to the request's thread-sensitive
thread on every request, even one answered from memory by an async fast path
(``core.middleware.async_fast_path_middleware``), and asgiref then joins that thread in
another new thread when the request's ``ThreadSensitiveContext`` exits.

``InlineSignalsASGIHandler`` runs them inline, in the event loop, only when that is
equivalent:

- ``request_started``: when every sync receiver is a known cheap one (``reset_queries``,
  ``close_old_connections``). Under Django's handler they run in the request's own
  thread-sensitive thread, which asgiref creates fresh for each request (one
  ``ThreadPoolExecutor(max_workers=1)`` per ``ThreadSensitiveContext``): that thread has no
  database connection yet, so both are no-ops there, as they are in the event loop.
- ``response.close()`` / ``request_finished``: only when the request made **no**
  thread-sensitive hop at all (no executor was created for its context, and no parent sync
  thread is in charge), the response is a plain ``HttpResponse`` with nothing to close but
  the request itself (no uploaded files), and
  every sync receiver is a known cheap one (``close_old_connections``, ``reset_urlconf``,
  ``close_caches`` when every configured cache's ``close`` is the no-op base method,
  django-guid's ``clear_guid``). Database connections are per thread; with no thread used,
  this request opened none, so there is nothing to close. A request whose view ran in a
  thread (a cache miss, any sync view) keeps Django's path: ``close()`` runs in that thread
  and closes its connections (``CONN_MAX_AGE`` as configured).

Any other receiver, a streaming or file response, or an unknown Django version of ``handle``
falls back to Django's behaviour. ``tests/test_request_speed.py`` pins both paths.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import django
from asgiref.sync import AsyncToSync, SyncToAsync, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.cache import caches, close_caches
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, reset_queries
from django.http import HttpRequest, HttpResponse
from django.urls import set_script_prefix
from django_guid.signals import clear_guid  # sets a contextvar to None

STARTED_SAFE: frozenset[Any] = frozenset({reset_queries, close_old_connections})


def _finished_safe() -> frozenset[Any]:
    return frozenset({close_old_connections, reset_urlconf, clear_guid})


def _caches_close_is_noop() -> bool:
    return all(type(caches[alias]).close is BaseCache.close for alias in settings.CACHES)


def _receivers(signal: Any, sender: Any) -> tuple[list[Any], list[Any]]:
    return signal._live_receivers(sender)  # type: ignore[no-any-return]


def _all_known(receivers: list[Any], safe: frozenset[Any], *, caches_ok: bool) -> bool:
    for receiver in receivers:
        if receiver in safe:
            continue
        if receiver is close_caches and caches_ok:
            continue
        return False
    return True


def made_no_thread_hop() -> bool:
    """True when this request's thread-sensitive work never left the event loop thread."""
    if getattr(AsyncToSync.executors, "current", None) is not None:
        return False  # a parent sync thread runs thread-sensitive code: not ours to judge
    context = SyncToAsync.thread_sensitive_context.get(None)
    if context is None:
        return False
    return context not in SyncToAsync.context_to_thread_executor


class InlineSignalsASGIHandler(ASGIHandler):
    """``ASGIHandler`` whose signals and ``response.close()`` skip the hop when equivalent."""

    def __init__(self) -> None:
        super().__init__()
        self.finished_safe = _finished_safe()
        self._caches_ok: bool | None = None

    def caches_ok(self) -> bool:
        if self._caches_ok is None:  # first request: every cache alias is configured by now
            self._caches_ok = _caches_close_is_noop()
        return self._caches_ok

    async def request_started(self, scope: dict[str, Any]) -> None:
        sync, asynchronous = _receivers(signals.request_started, self.__class__)
        if not _all_known(sync, STARTED_SAFE, caches_ok=False):
            await signals.request_started.asend(sender=self.__class__, scope=scope)
            return
        for receiver in sync:
            receiver(signal=signals.request_started, sender=self.__class__, scope=scope)
        if asynchronous:
            await asyncio.gather(
                *(
                    r(signal=signals.request_started, sender=self.__class__, scope=scope)
                    for r in asynchronous
                )
            )

    def close_inline_ok(self, response: Any) -> bool:
        if type(response) is not HttpResponse:
            return False  # streaming and file responses close their iterators / files
        for closer in getattr(response, "_resource_closers", ()):
            owner = getattr(closer, "__self__", None)
            if not isinstance(owner, HttpRequest) or hasattr(owner, "_files"):
                return False  # only the request's own close(), with no uploaded files
        if not made_no_thread_hop():
            return False
        sync, asynchronous = _receivers(signals.request_finished, self.__class__)
        return not asynchronous and _all_known(sync, self.finished_safe, caches_ok=self.caches_ok())

    async def close_response(self, response: Any) -> None:
        if self.close_inline_ok(response):
            response.close()  # sends request_finished: every receiver known cheap, no I/O
        else:
            await sync_to_async(response.close)()

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Django 5.2's ``ASGIHandler.handle``, with the two hops above made conditional.
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        await self.request_started(scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)  # type: ignore[arg-type]
            await sync_to_async(error_response.close)()  # type: ignore[union-attr]
            return

        async def process_request(request: Any, send: Any) -> Any:
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # client left during send
                await self.send_response(response, send)
            return response

        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            await self.close_response(response)
        body_file.close()


def get_asgi_application() -> ASGIHandler:
    """``django.core.asgi.get_asgi_application`` with the inline-signals handler.

    The copy of ``handle`` follows Django 5.2; on another version Django's own handler is
    used until the copy is checked again (a test fails on an upgrade to make that happen).
    """
    django.setup(set_prefix=False)
    if django.VERSION[:2] != (5, 2):
        return ASGIHandler()
    return InlineSignalsASGIHandler()
