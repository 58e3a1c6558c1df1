"""Awaiting native work: the core runs it on its own runtime and reports back to the loop."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from ._errors import from_core


def _settle(fut: "asyncio.Future[Any]", ok: bool, value: Any) -> None:
    if fut.done():  # cancelled while the core was working
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(from_core(value))


async def run(spawn: Callable[..., None], *args: Any) -> Any:
    """Calls `spawn(*args, done)` and awaits what `done(ok, value)` receives."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def done(ok: bool, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(_settle, fut, ok, value)
        except RuntimeError:  # the loop is closed; nobody waits any more
            pass

    spawn(*args, done)
    return await fut
