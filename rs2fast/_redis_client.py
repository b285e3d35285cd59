"""Redis clients for rs2fast.redis: connecting with bounded timeouts, telling client kinds apart,
making a sync/async twin of a client, and running commands with a bounded retry."""
from __future__ import annotations

import inspect
import math
import time
from typing import Any, Optional, Sequence
from urllib.parse import urlsplit

from rs2fast.errors import Rs2fastError

class RedisUnavailable(Rs2fastError, ConnectionError):
    """Redis did not answer (refused, timed out or went away) for longer than the retry bound."""


URL_SCHEMES = ("redis", "rediss", "unix")


def connect(url: str, *, timeout: float = 5.0, cluster: bool = False) -> Any:
    """A `redis.Redis` (or `redis.cluster.RedisCluster`) for `url` (redis://HOST:PORT[/DB]) whose
    connects and replies time out after `timeout` seconds; ValueError naming `url` when it does not
    parse. A single-server client sends nothing until it is used; a cluster client asks the cluster
    for its slot map at once."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    if urlsplit(url).scheme not in URL_SCHEMES:
        raise ValueError(f"url {url!r} is not a Redis URL (redis://HOST:PORT[/DB])")
    if not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    redis = redis_module()
    options = dict(socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        if cluster:
            return redis.cluster.RedisCluster.from_url(url, **options)
        return redis.Redis.from_url(url, **options)
    except ValueError as error:
        raise ValueError(f"url {url!r} is not a Redis URL (redis://HOST:PORT[/DB]): {error}") from None


def redis_module() -> Any:
    try:
        import redis
        import redis.asyncio
        import redis.cluster
    except ModuleNotFoundError:
        raise ModuleNotFoundError('rs2fast.redis needs redis-py: pip install "rs2fast[redis]"') from None
    return redis


def is_async(client: Any) -> bool:
    return inspect.iscoroutinefunction(getattr(client, "execute_command", None))


def is_cluster(client: Any) -> bool:
    return type(client).__name__ == "RedisCluster"


def check_client(client: Any) -> Any:
    if not callable(getattr(client, "pipeline", None)) or not callable(
            getattr(client, "execute_command", None)):
        raise TypeError(f"client must be a redis-py client (redis.Redis, redis.cluster.RedisCluster or "
                        f"their redis.asyncio twins), not {type(client).__name__}")
    encoder = getattr(client, "encoder", None) or client.get_encoder()
    if getattr(encoder, "decode_responses", False):
        raise ValueError("client must be made with decode_responses=False: chunks are bytes")
    return client


TWIN_OPTIONS = ("host", "port", "db", "username", "password", "socket_timeout",
                 "socket_connect_timeout", "client_name")


def twin(client: Any, want_async: bool) -> Any:
    """A client of the other kind (sync/asyncio) to the same single server, for `for` on an asyncio
    client or `async for` on a sync one; TypeError for a cluster, TLS or a Unix socket."""
    redis = redis_module()
    pool = getattr(client, "connection_pool", None)
    options = getattr(pool, "connection_kwargs", None)
    connection_class = getattr(pool, "connection_class", type(None))
    if (is_cluster(client) or not isinstance(options, dict) or "host" not in options
            or "SSL" in connection_class.__name__):
        raise TypeError(f"{'async for' if want_async else 'for'} needs a "
                        f"{'redis.asyncio' if want_async else 'synchronous redis'} client here: make "
                        f"the source with the client kind you iterate with")
    chosen = {key: options[key] for key in TWIN_OPTIONS if options.get(key) is not None}
    return (redis.asyncio.Redis if want_async else redis.Redis)(**chosen)


def check_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_chunks must be a positive int, got {value!r}")
    return value


def check_positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


class Retry:
    """Bounded reconnect policy: back off 50 ms doubling to 1 s, give up after `limit` seconds."""

    def __init__(self, limit: float, where: str) -> None:
        self.limit = limit
        self.where = where
        self.first: Optional[float] = None
        self.delay = 0.05

    def next_delay(self, error: BaseException) -> float:
        """Seconds to wait before the next attempt; RedisUnavailable when the bound is spent."""
        now = time.monotonic()
        if self.first is None:
            self.first = now
        if now - self.first >= self.limit:
            raise RedisUnavailable(f"Redis at {self.where} did not answer for {self.limit:g} s: "
                                   f"{error}") from error
        delay, self.delay = self.delay, min(self.delay * 2, 1.0)
        return min(delay, self.limit - (now - self.first))

    def succeeded(self) -> None:
        """Forget earlier failures."""
        self.first = None
        self.delay = 0.05


def where(client: Any) -> str:
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        options = pool.connection_kwargs
        return f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"
    return "the cluster"


def io_errors() -> tuple:
    redis = redis_module()
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionError,
            TimeoutError, OSError)


def run_commands(client: Any, commands: Sequence[tuple]) -> list:
    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    return pipe.execute(raise_on_error=False)


async def arun_commands(client: Any, commands: Sequence[tuple]) -> list:
    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    return await pipe.execute(raise_on_error=False)


def raise_errors(results: list) -> list:
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


# --- sink -------------------------------------------------------------------------------------
