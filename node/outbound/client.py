"""The node's one outbound HTTP client: status lists and did:web documents now, peer sync next.

Rules (architecture rule 11), all enforced here so no caller can forget one:
- http(s) only, no credentials in URLs, GET only, redirects never followed;
- the host is resolved first and every address checked against the `FetchPolicy` (policy.py); the
  connection then goes to exactly those checked addresses (a pinning resolver: a second DNS answer
  cannot swap in 127.0.0.1 between check and connect). An IP literal is checked the same way;
- time caps (connect and total), a size cap on the body read, no transparent decompression;
- an ETag/max-age cache (max-age capped), so a popular status list is fetched once a minute, not per
  verification;
- a `FetchBudget` per verification caps how many distinct URLs one document can make us fetch;
- failures are typed (`fetch_refused`: our policy said no; `fetch_failed`: the remote did not deliver)
  with a fixed sentence: nothing of the remote body or the connection error reaches a verdict, so the
  verifier is not an oracle for port scans. The cause is kept on the exception for the operator's log.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

from node.outbound.policy import FetchPolicy

log = logging.getLogger(__name__)

REFUSED = "fetch_refused"
FAILED = "fetch_failed"
MAX_BYTES = 512 * 1024  # a 2-bit, 131,072-entry status list is ~45 KB even when incompressible
MAX_FETCHES = 4  # distinct URLs per verification: the issuer's DID document and up to three status lists
MAX_AGE_CAP = 300.0  # seconds: never trust a cached document longer, whatever the server says
CACHE_BYTES = 16 * 1024 * 1024  # bodies kept for revalidation, in all
PINNED_HOSTS = 1024  # (host, port) -> checked addresses kept for the connector
TIMEOUT = 5.0
ACCEPT = "application/vc+ld+json, application/ld+json, application/did+json, application/json"

Lookup = Callable[[str, int], Awaitable[list[str]]]  # host, port -> addresses (tests inject one)


class FetchError(Exception):
    def __init__(self, reason: str, detail: str, cause: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.cause = cause  # for the operator's log only; never put in a verdict


def _unavailable(cause: str) -> FetchError:
    return FetchError(FAILED, "the document could not be fetched", cause)


@dataclass
class _Cached:
    body: bytes
    etag: str | None
    fresh_until: float


class OutboundClient:
    def __init__(self, policy: FetchPolicy | None = None, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES,
                 lookup: Lookup | None = None, monotonic: Callable[[], float] = time.monotonic,
                 cache_entries: int = 256) -> None:
        self.policy = policy or FetchPolicy()
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._lookup = lookup or _system_lookup
        self._monotonic = monotonic
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_entries = cache_entries
        self._cache_bytes = 0
        self._pins: OrderedDict[tuple[str, int], list[str]] = OrderedDict()
        self._session: Any = None
        self.requests = 0  # requests actually sent (for tests and metrics)

    def budget(self, max_fetches: int = MAX_FETCHES) -> "FetchBudget":
        return FetchBudget(self, max_fetches)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get_json(self, url: str) -> Any:
        """GET `url` as JSON under every rule above; raises FetchError."""
        host, port = self._target(url)
        cached = self._cache.get(url)
        if cached is not None and cached.fresh_until > self._monotonic():
            self._cache.move_to_end(url)
            return _parse(cached.body)
        self._pin((host, port), await self._addresses(host, port))
        headers = {"Accept": ACCEPT, "Accept-Encoding": "identity"}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        body, etag, max_age = await self._get(url, headers, cached)
        if max_age > 0:
            self._remember(url, _Cached(body, etag, self._monotonic() + max_age))
        else:
            self._forget(url)
        return _parse(body)

    def _pin(self, target: tuple[str, int], addresses: list[str]) -> None:
        """Bounded: many distinct hosts cannot grow it (an evicted pin fails its connect, closed)."""
        self._pins[target] = addresses
        self._pins.move_to_end(target)
        while len(self._pins) > PINNED_HOSTS:
            self._pins.popitem(last=False)

    def _target(self, url: Any) -> tuple[str, int]:
        if not isinstance(url, str):
            raise FetchError(REFUSED, "the URL is not a string")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise FetchError(REFUSED, "the URL cannot be parsed") from None
        if parts.scheme not in ("http", "https"):
            raise FetchError(REFUSED, "only http(s) URLs are fetched")
        if not parts.hostname or parts.username is not None or parts.password is not None:
            raise FetchError(REFUSED, "the URL has no host, or carries credentials")
        return parts.hostname, port or (443 if parts.scheme == "https" else 80)

    async def _addresses(self, host: str, port: int) -> list[str]:
        """The host's addresses, every one checked; any refused address refuses the host (a name that
        resolves to a public and a private address is a rebinding trick, not a mirror)."""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = await asyncio.wait_for(self._lookup(host, port), self._timeout)
            except Exception as exc:  # no such host, DNS timeout: the remote did not deliver
                raise _unavailable(f"lookup of {host}: {type(exc).__name__}") from None
            if not addresses:
                raise _unavailable(f"lookup of {host}: no address")
        for address in addresses:
            why = self.policy.address_refusal(host, port, ipaddress.ip_address(address))
            if why:
                raise FetchError(REFUSED, f"{host} is {why}; not fetched (allow it with PUENTE_FETCH_ALLOW)"
                                 if literal is not None else f"{host} resolves to {why}; not fetched")
        return addresses

    async def _get(self, url: str, headers: dict[str, str], cached: _Cached | None) -> tuple[bytes, str | None, float]:
        import aiohttp

        session = self._open()
        self.requests += 1
        try:
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                max_age = _max_age(response.headers.get("Cache-Control", ""))
                if response.status == 304 and cached is not None:
                    return cached.body, cached.etag, max_age
                if response.status != 200:
                    raise _unavailable(f"HTTP {response.status}")
                if response.headers.get("Content-Encoding", "identity").lower() != "identity":
                    raise _unavailable("compressed body")  # we asked for identity; we do not inflate
                declared = response.content_length
                if declared is not None and declared > self._max_bytes:
                    raise _unavailable(f"declared {declared} bytes")
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise _unavailable(f"more than {self._max_bytes} bytes")
                return bytes(body), response.headers.get("ETag"), max_age
        except FetchError as exc:
            log.info("outbound fetch failed", extra={"url": url, "cause": exc.cause})
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            log.info("outbound fetch failed", extra={"url": url, "cause": type(exc).__name__})
            raise _unavailable(type(exc).__name__) from None

    def _open(self):
        import aiohttp

        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=_PinnedResolver(self._pins), use_dns_cache=False, limit=32)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, trust_env=False,
                timeout=aiohttp.ClientTimeout(total=self._timeout, connect=self._timeout))
        return self._session

    def _remember(self, url: str, entry: _Cached) -> None:
        self._forget(url)
        self._cache[url] = entry
        self._cache_bytes += len(entry.body)
        while len(self._cache) > self._cache_entries or self._cache_bytes > CACHE_BYTES:
            _url, evicted = self._cache.popitem(last=False)
            self._cache_bytes -= len(evicted.body)

    def _forget(self, url: str) -> None:
        old = self._cache.pop(url, None)
        if old is not None:
            self._cache_bytes -= len(old.body)


class FetchBudget:
    """One verification's share of the client: each distinct URL at most once, at most `max_fetches`
    of them (a document with 200 status entries makes at most that many requests)."""

    def __init__(self, client: OutboundClient, max_fetches: int) -> None:
        self._client = client
        self._max = max_fetches
        self._results: dict[str, asyncio.Future] = {}

    @property
    def urls(self) -> list[str]:
        return list(self._results)

    async def get_json(self, url: str) -> Any:
        if url not in self._results:
            if len(self._results) >= self._max:
                raise FetchError(REFUSED, f"more than {self._max} documents to fetch for one verification")
            self._results[url] = asyncio.ensure_future(self._client.get_json(url))
        return await asyncio.shield(self._results[url])

    async def did_document(self, did: str) -> dict[str, Any]:
        """A did:web document over HTTP, for `DidResolver(remote=...)`; failures are KeyResolutionErrors."""
        from node.crypto.data_integrity import KeyResolutionError
        from node.crypto.did import did_web_to_url

        try:
            document = await self.get_json(did_web_to_url(did))
        except FetchError as exc:
            raise KeyResolutionError(f"the DID document of {did} was not fetched: {exc.detail}", exc.reason) from None
        if not isinstance(document, dict) or document.get("id") != did:
            raise KeyResolutionError(f"the document fetched for {did} is not its DID document", "did_mismatch")
        return document


class _PinnedResolver:
    """aiohttp resolver that only answers with the addresses the client checked for this host."""

    def __init__(self, pins: dict[tuple[str, int], list[str]]) -> None:
        self._pins = pins

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        addresses = self._pins.get((host, port))
        if not addresses:
            raise OSError(f"{host}:{port} was not checked by the outbound policy")
        return [{"hostname": host, "host": a, "port": port, "proto": 0, "flags": socket.AI_NUMERICHOST,
                 "family": socket.AF_INET6 if ":" in a else socket.AF_INET} for a in addresses]

    async def close(self) -> None:
        return None


async def _system_lookup(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def _max_age(cache_control: str) -> float:
    directives = [d.strip().lower() for d in cache_control.split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    for directive in directives:
        if directive.startswith("max-age="):
            try:
                return max(0.0, min(float(int(directive[8:])), MAX_AGE_CAP))
            except ValueError:
                return 0.0
    return 0.0


def _parse(body: bytes) -> Any:
    """The node's one JSON reader (depth, NaN/Infinity, number ranges, NUL), with our own sentence."""
    from node.errors import InvalidInput
    from node.jsonio import loads

    try:
        return loads(body, max_bytes=MAX_BYTES, what="the fetched document")
    except InvalidInput as exc:
        raise _unavailable(f"not acceptable JSON ({exc.detail})") from None
