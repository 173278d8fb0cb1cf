"""Django's ASGI handler with the middleware chain and the views run as under WSGI.

Django's own ASGI handler builds the middleware chain in async mode. Our views are sync
(DRF) and so is every middleware we use, which Django then runs one by one through
``sync_to_async``: each ``process_request``, ``process_view`` and ``process_response``, and the
view, is a hop from the event loop to a worker thread and back — about a dozen per request,
measured at ~5 ms of CPU per request in the labeling-queue benchmark (docs/benchmarks.md).
Here the whole chain runs in one hop: the request is read and the response sent on the
event loop, as before, and everything between runs in one worker thread. WebSockets are not
touched (Channels routes them elsewhere); an async view would still work (Django's sync
path runs it with ``async_to_sync``), it would just gain nothing.

Streaming responses with a sync iterator (snapshot downloads, static files) are read chunk
by chunk in the request's thread. Django's handler would read the whole iterator into memory
first (``sync_to_async(list)``, with a warning): a snapshot of a few hundred MB would sit in
the web process before its first byte went out.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse

_END = object()


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        # ``thread_sensitive`` with the per-request ThreadSensitiveContext of ``__call__``:
        # one thread per request, as Django's handler does for sync views.
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        if response.streaming and not response.is_async:
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size  # 64 KiB a hop rather than 4 KiB
            response.streaming_content = _chunks_from_thread(response.streaming_content)
        return response


async def _chunks_from_thread(iterator):
    """An async iterator over a sync one, each ``next`` in the request's worker thread."""
    iterator = iter(iterator)
    step = sync_to_async(next, thread_sensitive=True)
    while (chunk := await step(iterator, _END)) is not _END:
        yield chunk


def get_asgi_application() -> SyncChainASGIHandler:
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
