"""The one outbound HTTP client and the pipeline's use of it (issue 8, item 4).

A real aiohttp server on 127.0.0.1 serves status lists and counts requests. Refusals of private
addresses are asserted WITHOUT sending traffic there: the client must refuse before connecting (the
request method is replaced by one that fails the test, and nothing but 127.0.0.1 is ever contacted).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from aiohttp import web

from node.clock import FixedClock
from node.crypto.data_integrity import add_proof
from node.crypto.did import DidResolver
from node.crypto.keys import KeyPair
from node.crypto.signer import DocumentSigner
from node.issuance.status_list import LIST_SIZE, Bitstring, list_credential, status_entry
from node.issuance.verify import standalone_verifier
from node.outbound import MAX_FETCHES, FetchError, FetchPolicy, OutboundClient

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
SECRET = "internal-secret-7f3a"  # a remote body must never reach a verdict


class Lists:
    """A status-list host on 127.0.0.1: `serve(path, document)`, counts every request by path."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.hits: dict[str, int] = {}
        self.base = ""

    def serve(self, path: str, document=None, *, status: int = 200, body: bytes | None = None, headers=None) -> str:
        payload = body if body is not None else json.dumps(document).encode()
        self.documents[path] = (status, payload, headers or {})
        return self.base + path

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    async def handle(self, request: web.Request) -> web.Response:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        status, payload, headers = self.documents.get(request.path, (404, b"no such list " + SECRET.encode(), {}))
        etag = headers.get("ETag")
        if etag and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(status=status, body=payload, headers=headers, content_type="application/json")


@pytest.fixture
async def lists(aiohttp_server):
    host = Lists()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", host.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    host.base = f"http://127.0.0.1:{server.port}"
    return host


@pytest.fixture
async def allowed():
    client = OutboundClient(FetchPolicy.parse("127.0.0.1"))
    yield client
    await client.close()


@pytest.fixture
def signer():
    s = DocumentSigner(workers=1)
    yield s
    s.close()


def signed_list(key: KeyPair, url: str, set_bits=(), *, purpose="revocation") -> dict:
    bits = Bitstring(LIST_SIZE)
    for index in set_bits:
        bits.set(index, True)
    return add_proof(list_credential(url, key.controller, purpose, bits, NOW), key, suite="eddsa-jcs-2022", created=NOW)


def signed_credential(key: KeyPair, status, *, issuer: str | None = None) -> dict:
    unsigned = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                "id": "urn:uuid:5b0a1e1c-4f0e-4e57-9d5e-1c0f3c2a7b11", "issuer": issuer or key.controller,
                "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:learner"},
                "credentialStatus": status}
    return add_proof(unsigned, key, suite="eddsa-jcs-2022", created=NOW)


def verifier(signer, outbound):
    return standalone_verifier(signer, DidResolver(), FixedClock(NOW), outbound)


def status(result):
    return [(c.ok, c.reason) for c in result.checks if c.check == "status"]


def forbid_connecting(client: OutboundClient, monkeypatch) -> None:
    async def connect(*args, **kwargs):
        raise AssertionError("the client tried to connect to a refused address")

    monkeypatch.setattr(client, "_get", connect)


# -- the address policy --------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://10.0.0.1/list", "http://10.255.1.2:8080/list", "http://172.16.0.1/list", "http://192.168.1.1/list",
    "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:5432/", "http://[::1]/list",
    "http://[::ffff:127.0.0.1]/list", "http://[::ffff:10.0.0.1]/list", "http://[::ffff:a9fe:a9fe]/list",
    "http://[64:ff9b::a00:1]/list", "http://[fd00:ec2::254]/list", "http://[fe80::1]/list",
    "http://100.64.0.1/list", "http://100.100.100.200/list", "http://0.0.0.0/list", "http://224.0.0.1/list",
    "http://[::]/list", "http://[2002:a00:1::]/list",
])
async def test_private_addresses_are_refused_before_connecting(url, monkeypatch):
    client = OutboundClient()
    forbid_connecting(client, monkeypatch)
    with pytest.raises(FetchError) as refused:
        await client.get_json(url)
    assert refused.value.reason == "fetch_refused" and client.requests == 0


async def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(monkeypatch):
    looked_up = []

    async def lookup(host, port):
        looked_up.append(host)
        return {"evil.example": ["10.0.0.7"], "mixed.example": ["93.184.216.34", "127.0.0.1"]}[host]

    client = OutboundClient(lookup=lookup)
    forbid_connecting(client, monkeypatch)
    for host in ("evil.example", "mixed.example"):  # one private answer among public ones refuses the host
        with pytest.raises(FetchError) as refused:
            await client.get_json(f"https://{host}/status/1")
        assert refused.value.reason == "fetch_refused"
    assert looked_up == ["evil.example", "mixed.example"] and client.requests == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://127.0.0.1/", "http://user:pw@example.org/x",
                                 "http:///nohost", 7, "http://[::1"])
async def test_only_plain_http_urls(url, monkeypatch):
    client = OutboundClient(FetchPolicy.parse("127.0.0.1"))
    forbid_connecting(client, monkeypatch)
    with pytest.raises(FetchError) as refused:
        await client.get_json(url)
    assert refused.value.reason == "fetch_refused"


def test_the_allow_setting_parses_hosts_ports_and_networks():
    import ipaddress

    from node.errors import ConfigurationError

    policy = FetchPolicy.parse(" 127.0.0.1, peer.internal:8443, [::1]:8080, 10.20.0.0/16 ")
    assert policy.address_refusal("127.0.0.1", 9999, ipaddress.ip_address("127.0.0.1")) is None
    assert policy.address_refusal("peer.internal", 8443, ipaddress.ip_address("10.1.1.1")) is None
    assert policy.address_refusal("peer.internal", 80, ipaddress.ip_address("10.1.1.1")) is not None
    assert policy.address_refusal("x.internal", 80, ipaddress.ip_address("10.20.3.4")) is None
    assert policy.address_refusal("::1", 8080, ipaddress.ip_address("::1")) is None
    broad = FetchPolicy.parse("169.254.0.0/16")  # a network entry never opens cloud metadata
    assert broad.address_refusal("169.254.169.254", 80, ipaddress.ip_address("169.254.169.254")) is not None
    for bad in ("10.0.0.0/33", "host:notaport", ":80"):
        with pytest.raises(ConfigurationError):
            FetchPolicy.parse(bad)


def test_settings_read_puente_fetch_allow(tmp_path):
    from node.errors import ConfigurationError
    from node.settings import load_settings, write_config

    settings = load_settings(environ={"PUENTE_FETCH_ALLOW": "127.0.0.1, peer.internal:8443"}, data_dir=tmp_path)
    assert settings.fetch_allow == ("127.0.0.1", "peer.internal:8443")
    write_config(settings)
    assert load_settings(environ={}, data_dir=tmp_path).fetch_allow == ("127.0.0.1", "peer.internal:8443")
    with pytest.raises(ConfigurationError):
        load_settings(environ={"PUENTE_FETCH_ALLOW": "10.0.0.0/99"}, data_dir=tmp_path / "other")


# -- fetching from 127.0.0.1 -----------------------------------------------------------------------

async def test_loopback_is_fetched_only_when_allowed(lists, allowed):
    url = lists.serve("/status/1", {"hello": "list"})
    closed = OutboundClient()
    try:
        with pytest.raises(FetchError) as refused:
            await closed.get_json(url)
        assert refused.value.reason == "fetch_refused" and lists.total == 0
    finally:
        await closed.close()
    assert await allowed.get_json(url) == {"hello": "list"} and lists.total == 1


async def test_failures_are_typed_and_never_echo_the_remote(lists, allowed):
    cases = [
        lists.serve("/500", status=500, body=SECRET.encode()),
        lists.serve("/redirect", status=302, body=b"", headers={"Location": "http://169.254.169.254/"}),
        lists.serve("/big", body=b'{"pad": "' + b"x" * (600 * 1024) + b'"}'),
        lists.serve("/gzip", body=b"\x1f\x8b" + SECRET.encode(), headers={"Content-Encoding": "gzip"}),
        lists.serve("/notjson", body=SECRET.encode()),
        lists.serve("/nan", body=b'{"x": NaN}'),
        lists.serve("/deep", body=b"[" * 5000 + b"]" * 5000),
        lists.base.rsplit(":", 1)[0] + ":1/closed-port",  # nothing listens: same sentence as any other failure
    ]
    details = set()
    for url in cases:
        with pytest.raises(FetchError) as failed:
            await allowed.get_json(url)
        assert failed.value.reason == "fetch_failed" and SECRET not in str(failed.value), url
        details.add(failed.value.detail)
    assert len(details) == 1  # no port-scanning oracle: refused, closed, 500, too big all read the same
    assert lists.hits.get("/redirect") == 1 and "/latest" not in lists.hits  # the redirect was not followed


async def test_etag_and_max_age_cache(lists):
    now = [0.0]
    client = OutboundClient(FetchPolicy.parse("127.0.0.1"), monotonic=lambda: now[0])
    try:
        url = lists.serve("/cached", {"v": 1}, headers={"ETag": '"v1"', "Cache-Control": "public, max-age=60"})
        assert await client.get_json(url) == {"v": 1} and await client.get_json(url) == {"v": 1}
        assert lists.hits["/cached"] == 1  # fresh: served from the cache
        now[0] = 61.0
        assert await client.get_json(url) == {"v": 1} and lists.hits["/cached"] == 2  # revalidated: 304
        lists.serve("/cached", {"v": 2}, headers={"ETag": '"v2"', "Cache-Control": "max-age=999999"})
        now[0] = 200.0
        assert await client.get_json(url) == {"v": 2}
        now[0] = 200.0 + 301  # max-age is capped at 300 s whatever the server says
        await client.get_json(url)
        assert lists.hits["/cached"] == 4
        uncached = lists.serve("/nostore", {"v": 3}, headers={"Cache-Control": "no-store"})
        await client.get_json(uncached)
        await client.get_json(uncached)
        assert lists.hits["/nostore"] == 2
    finally:
        await client.close()


# -- the pipeline's use of the client -----------------------------------------------------------------

async def test_status_list_fetched_verified_and_read(lists, allowed, signer):
    key = KeyPair.generate()
    url = lists.base + "/status/1"
    lists.serve("/status/1", signed_list(key, url, set_bits=[42]))
    valid = signed_credential(key, status_entry(url, "revocation", 7))
    revoked = signed_credential(key, status_entry(url, "revocation", 42))
    result = await verifier(signer, allowed).verify(valid)
    assert result.verified and status(result) == [(True, None)] and result.trust == "not_consulted"
    assert status(await verifier(signer, allowed).verify(revoked)) == [(False, "revoked")]


async def test_a_list_signed_by_someone_else_is_refused(lists, allowed, signer):
    key, attacker = KeyPair.generate(), KeyPair.generate()
    url = lists.base + "/status/forged"
    forged = signed_list(attacker, url)
    forged_as_issuer = add_proof({**{k: v for k, v in forged.items() if k != "proof"}, "issuer": key.controller},
                                 attacker, suite="eddsa-jcs-2022", created=NOW)  # claims the issuer, signed by the attacker
    lists.serve("/status/forged", forged_as_issuer)
    result = await verifier(signer, allowed).verify(signed_credential(key, status_entry(url, "revocation", 7)))
    assert status(result) == [(False, "status_issuer_mismatch")]
    lists.serve("/status/forged", forged)  # the attacker's own list, honestly labelled
    result = await verifier(signer, allowed).verify(signed_credential(key, status_entry(url, "revocation", 7)))
    assert status(result) == [(False, "status_issuer_mismatch")]


async def test_nothing_is_fetched_for_a_document_whose_proof_failed(lists, allowed, signer):
    key = KeyPair.generate()
    url = lists.base + "/status/1"
    lists.serve("/status/1", signed_list(key, url))
    tampered = signed_credential(key, status_entry(url, "revocation", 7))
    tampered["credentialSubject"]["id"] = "did:example:someone-else"
    result = await verifier(signer, allowed).verify(tampered)
    assert not result.verified and status(result) == [(False, "not_checked")]
    impostor = KeyPair.generate()  # a valid proof, but not by the issuer: still nothing fetched
    wrong_issuer = signed_credential(impostor, status_entry(url, "revocation", 7), issuer=key.controller)
    result = await verifier(signer, allowed).verify(wrong_issuer)
    assert status(result) == [(False, "not_checked")]
    assert lists.total == 0 and allowed.requests == 0


async def test_fetches_per_verification_are_capped(lists, allowed, signer):
    key = KeyPair.generate()
    entries = []
    for n in range(MAX_FETCHES + 2):
        url = lists.base + f"/status/{n}"
        lists.serve(f"/status/{n}", signed_list(key, url))
        entries.append(status_entry(url, "revocation", n))
    result = await verifier(signer, allowed).verify(signed_credential(key, entries))
    assert status(result) == [(False, "fetch_refused")]
    assert lists.total == MAX_FETCHES

    many = [status_entry(lists.base + "/status/0", "revocation", n) for n in range(200)]  # one 80 KB body, 200 entries
    before = lists.total
    result = await verifier(signer, allowed).verify(signed_credential(key, many))
    assert status(result) == [(False, "invalid_status_entry")] and lists.total == before


async def test_a_status_list_at_a_private_address_is_refused_in_the_verdict(signer, monkeypatch):
    client = OutboundClient()
    forbid_connecting(client, monkeypatch)
    key = KeyPair.generate()
    try:
        for url in ("http://169.254.169.254/latest/meta-data/iam", "http://10.0.0.1:6379/", "http://[::1]:22/"):
            result = await verifier(signer, client).verify(signed_credential(key, status_entry(url, "revocation", 1)))
            assert status(result) == [(False, "fetch_refused")], url
        offline = await verifier(signer, None).verify(signed_credential(key, status_entry("http://10.0.0.1/", "revocation", 1)))
        assert status(offline) == [(False, "status_unavailable")]
    finally:
        await client.close()
    assert client.requests == 0


async def test_did_web_issuers_are_resolved_through_the_client(lists, allowed, signer, monkeypatch):
    port = lists.base.rsplit(":", 1)[1]
    did = f"did:web:127.0.0.1%3A{port}:issuers:acme"
    key = KeyPair.generate(controller=did, fragment="key-1")
    lists.serve("/issuers/acme/did.json", {"@context": ["https://www.w3.org/ns/did/v1"], "id": did,
                                           "verificationMethod": [key.verification_method()], "assertionMethod": [key.id]})
    url = lists.base + "/status/acme"
    lists.serve("/status/acme", signed_list(key, url))
    credential = signed_credential(key, status_entry(url, "revocation", 3))
    result = await verifier(signer, allowed).verify(credential)
    assert result.verified, result.to_json()
    assert lists.hits == {"/issuers/acme/did.json": 1, "/status/acme": 1}  # the DID document once per verification

    closed = OutboundClient()
    forbid_connecting(closed, monkeypatch)
    result = await verifier(signer, closed).verify(credential)
    assert {c.check: c.reason for c in result.failures} == {
        "proof.verificationMethod": "fetch_refused", "issuer": "issuer_mismatch", "status": "not_checked"}
    assert closed.requests == 0


async def test_the_app_opens_and_closes_the_client(settings):
    from aiohttp.test_utils import TestServer

    from node.app import create_app
    from node.http.keys import SERVICES
    from node.outbound import OutboundClient

    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    outbound = app[SERVICES].outbound
    assert isinstance(outbound, OutboundClient) and outbound.policy == FetchPolicy.parse(settings.fetch_allow)
    outbound._open()  # as the first fetch would
    await server.close()
    assert outbound._session is None  # closed with the app's cleanup context


async def test_a_verified_list_is_not_verified_again_until_it_changes(lists, allowed, signer):
    from node.issuance.status_check import make_status_check
    from node.verification.pipeline import CredentialVerifier, VerifiedDocuments

    verified_ids = []

    class Counting:  # the signer, counting which documents it verifies
        async def verify(self, document, resolver, **options):
            verified_ids.append(document.get("id"))
            return await signer.verify(document, resolver, **options)

    now = [0.0]
    key = KeyPair.generate()
    url = lists.base + "/status/memo"
    lists.serve("/status/memo", signed_list(key, url))
    credential = signed_credential(key, status_entry(url, "revocation", 9))
    pipeline = CredentialVerifier(Counting(), DidResolver(), FixedClock(NOW), status=make_status_check(None), outbound=allowed,
                                  verified=VerifiedDocuments(ttl=60, monotonic=lambda: now[0]))
    for _ in range(3):
        assert (await pipeline.verify(credential)).verified
    assert verified_ids.count(url) == 1 and lists.hits["/status/memo"] == 3  # fetched each time, verified once
    lists.serve("/status/memo", signed_list(key, url, set_bits=[9]))  # revoked: a new list, verified anew
    assert status(await pipeline.verify(credential)) == [(False, "revoked")] and verified_ids.count(url) == 2
    now[0] = 61.0  # the memory expires
    await pipeline.verify(credential)
    assert verified_ids.count(url) == 3
    attacker = KeyPair.generate()  # failures are never remembered: a forged list is checked every time
    forged = signed_list(attacker, url)
    lists.serve("/status/memo", add_proof({**{k: v for k, v in forged.items() if k != "proof"}, "issuer": key.controller},
                                          attacker, suite="eddsa-jcs-2022", created=NOW))
    for _ in range(2):
        assert status(await pipeline.verify(credential)) == [(False, "status_issuer_mismatch")]
    assert verified_ids.count(url) == 5


async def test_a_name_connects_to_exactly_the_address_that_was_checked(lists):
    answers = []

    async def lookup(host, port):  # a rebinding DNS: the first answer is allowed, the next one is private
        answers.append(host)
        return ["127.0.0.1"] if len(answers) == 1 else ["10.0.0.1"]

    client = OutboundClient(FetchPolicy.parse("127.0.0.1/32"), lookup=lookup)  # the address is allowed, not the name
    try:
        url = lists.serve("/named", {"via": "name"}).replace("127.0.0.1", "lists.test")
        assert await client.get_json(url) == {"via": "name"}
        assert answers == ["lists.test"] and lists.hits["/named"] == 1  # one lookup, checked, then connected to it
        with pytest.raises(FetchError) as refused:
            await client.get_json(url.replace("/named", "/again"))
        assert refused.value.reason == "fetch_refused" and "/again" not in lists.hits and client.requests == 1
    finally:
        await client.close()


def test_the_cli_refuses_private_status_lists_too(tmp_path):
    import os
    import subprocess
    import sys

    key = KeyPair.generate()
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(signed_credential(key, status_entry("http://169.254.169.254/latest/list", "revocation", 1))))
    env = {**os.environ, "PUENTE_DATA_DIR": str(tmp_path / "no-node")}
    env.pop("PUENTE_FETCH_ALLOW", None)
    for flags, reason in (((), "fetch_refused"), (("--offline",), "status_unavailable")):
        proc = subprocess.run([sys.executable, "-m", "node", "credential", "verify", *flags, str(path)], capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=120)
        result = json.loads(proc.stdout)
        assert proc.returncode == 1 and result["trust"] == "not_consulted"
        assert [(c["check"], c["reason"]) for c in result["checks"] if not c["ok"]] == [("status", reason)]
