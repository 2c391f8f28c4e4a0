"""A TCP proxy that holds back every chunk the server sends by ``delay`` seconds (0: none).

For slow answers in the fault matrix: neither the API emulator's reactions nor OpenBao can delay
an answer, so the operator is pointed at this proxy instead. Runs its own event loop in a thread.
Lowering ``delay`` also releases the chunks already held (a server that recovers answers at once);
``held`` counts the chunks being held back right now.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.support.ports import reserve_port


class SlowProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = reserve_port()
        self.delay = 0.0
        self.held = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SlowProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._serve(), self._loop)
        self._server = future.result(timeout=10)
        return self

    async def _serve(self) -> asyncio.AbstractServer:
        return await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, slow: bool) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while chunk := await src.read(65536):
                    if slow and self.delay:
                        await self._hold()
                    dst.write(chunk)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))

    async def _hold(self) -> None:
        """Wait ``delay`` seconds, or less if ``delay`` is lowered meanwhile."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        self.held += 1
        try:
            while (left := self.delay - (loop.time() - start)) > 0:
                await asyncio.sleep(min(0.05, left))
        finally:
            self.held -= 1

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
