"""Several nodes in one test, over real HTTP: each resolves the others' did:web from their own servers."""

from __future__ import annotations

from node.crypto.did import DidResolver, did_web_to_url


async def _fetch_did(client_session, did: str) -> dict | None:
    async with client_session.get(did_web_to_url(did)) as response:
        return await response.json() if response.status == 200 else None


async def test_two_nodes_serve_and_resolve_each_others_dids(make_node):
    gt = await make_node("GT")
    co = await make_node("CO", name="Nodo Colombia")
    assert gt.url != co.url and gt.did != co.did
    assert co.ministry_did == co.did + ":ministry"
    session = gt.client.session  # a plain aiohttp ClientSession; any URL works, not only its own server
    resolver = DidResolver(local=gt.services.keystore.resolve_local, remote=lambda did: _fetch_did(session, did))
    remote = await resolver.resolve(co.ministry_did)  # not hosted on GT: fetched from CO's server
    assert remote == await co.services.keystore.did_document(co.ministry_did)
    own = await resolver.resolve(gt.did)
    assert own["id"] == gt.did
    health = await (await co.client.get("/health")).json()
    assert health["jurisdiction"] == "CO" and health["did"] == co.did


async def test_nodes_have_separate_databases(make_node):
    gt = await make_node("GT")
    pe = await make_node("PE")
    await gt.services.keystore.create_identity("institution", "INTECAP", "institutions/intecap")
    assert len(await gt.services.keystore.identities()) == 3
    assert len(await pe.services.keystore.identities()) == 2
    assert (await pe.client.get("/institutions/intecap/did.json")).status == 404
