"""Where study events travel between processes: Redis pub/sub, or a hub inside this process.

The Celery worker changes a study's status in one process and the browser's event stream is
served by another, so with a broker configured (REDIS_URL) events go through Redis pub/sub. In
embedded mode (`make run`: no Redis) the analysis thread and the stream share one process, and a
hub of asyncio queues carries them instead.
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import cache
from typing import NamedTuple, Protocol

import redis
import redis.asyncio
from django.conf import settings

logger = logging.getLogger(__name__)


class Message(NamedTuple):
    channel: str
    data: str


class Subscription(Protocol):
    async def next_message(self, *, timeout: float) -> Message | None:
        """The next message on the subscribed channels, or None when ``timeout`` seconds pass first."""
        ...


def publish(*, channels: Iterable[str], message: str) -> None:
    """Send ``message`` to every subscriber of ``channels`` (best effort: a lost event is logged)."""
    channels = list(channels)
    if not settings.REDIS_URL:
        in_process_hub().publish(channels, message)
        return
    try:
        with redis_client().pipeline(transaction=False) as pipeline:
            for channel in channels:
                pipeline.publish(channel, message)
            pipeline.execute()
    except redis.RedisError:
        # The study's state is committed; browsers catch up when their stream reconnects.
        logger.warning("Could not publish a study event on %s", channels, exc_info=True)


@asynccontextmanager
async def subscribe(channels: Iterable[str]) -> AsyncIterator[Subscription]:
    """Receive what is published on ``channels`` from now until the context ends."""
    channels = list(channels)
    if not settings.REDIS_URL:
        async with in_process_hub().subscribe(channels) as subscription:
            yield subscription
        return
    client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(*channels)
        yield RedisSubscription(pubsub)
    finally:
        await pubsub.aclose()
        await client.aclose()


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


class RedisSubscription:
    def __init__(self, pubsub: redis.asyncio.client.PubSub):
        self.pubsub = pubsub

    async def next_message(self, *, timeout: float) -> Message | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # get_message answers None early for the subscribe confirmations it skips; wait on.
        while (left := deadline - loop.time()) > 0:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if message is not None and message["type"] == "message":
                return Message(channel=text(message["channel"]), data=text(message["data"]))
        return None


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class QueueSubscription:
    def __init__(self, queue: asyncio.Queue[Message]):
        self.queue = queue

    async def next_message(self, *, timeout: float) -> Message | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class InProcessHub:
    """Channels of asyncio queues that any thread may publish to (embedded mode only)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Message]]]] = {}

    def publish(self, channels: list[str], message: str) -> None:
        with self.lock:
            # Each subscriber once, with the channel it heard the message on: no stream subscribes
            # to two of the channels one message goes to.
            targets = {
                target: channel for channel in channels for target in self.subscribers.get(channel, ())
            }
        for (loop, queue), channel in targets.items():
            # The analysis thread is not the stream's event loop: hand the message over to it. A
            # loop that has closed (RuntimeError) belongs to a stream whose subscription is ending.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, Message(channel=channel, data=message))

    @asynccontextmanager
    async def subscribe(self, channels: list[str]) -> AsyncIterator[QueueSubscription]:
        target = (asyncio.get_running_loop(), asyncio.Queue[Message]())
        with self.lock:
            for channel in channels:
                self.subscribers.setdefault(channel, set()).add(target)
        try:
            yield QueueSubscription(target[1])
        finally:
            with self.lock:
                for channel in channels:
                    self.subscribers.get(channel, set()).discard(target)


@cache
def in_process_hub() -> InProcessHub:
    return InProcessHub()
