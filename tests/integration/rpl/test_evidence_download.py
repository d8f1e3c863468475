"""RPL evidence is uploaded by someone else: it is served as a download (Content-Disposition: attachment),
under a passive media type (text/html, SVG and unknown types become application/octet-stream), with nosniff
and a sandboxing CSP, so it never runs as a page on the node's origin. nosniff is on every response."""

from __future__ import annotations

import base64

import pytest


async def _case(client, issuer) -> str:
    opened = await client.post("/rpl/cases", headers=issuer, json={
        "institution": "intecap", "template": "intecap-albanileria-2", "givenName": "Ana", "familyName": "Pérez",
        "identifier": "ana@example.org"})
    assert opened.status == 201, await opened.text()
    return f"/rpl/cases/{(await opened.json())['id']}"


@pytest.mark.parametrize("name,media_type,served_as", [
    ("informe.html", "text/html", "application/octet-stream"),
    ("dibujo.svg", "image/svg+xml", "application/octet-stream"),
    ("datos.xml", "application/xml", "application/octet-stream"),
    ("foto.png", "image/png", "image/png"),
    ("constancia.pdf", "application/pdf", "application/pdf"),
])
async def test_evidence_is_an_attachment_with_a_passive_type(client, auth_headers, issuance, name, media_type, served_as):
    issuer = await auth_headers("issuer", institution="intecap")
    url = await _case(client, issuer)
    content = b"<html><script>alert(document.cookie)</script></html>"
    added = await client.post(url + "/evidence", headers=issuer, json={
        "name": name, "mediaType": media_type, "contentBase64": base64.b64encode(content).decode()})
    assert added.status == 201, await added.text()
    fetched = await client.get(f"{url}/evidence/{(await added.json())['id']}", headers=issuer)
    assert fetched.status == 200 and await fetched.read() == content
    assert fetched.content_type == served_as
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
    assert f'filename="{name}"' in fetched.headers["Content-Disposition"]
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in fetched.headers["Content-Security-Policy"]


async def test_evidence_file_names_cannot_break_the_header(client, auth_headers, issuance):
    issuer = await auth_headers("issuer", institution="intecap")
    url = await _case(client, issuer)
    added = await client.post(url + "/evidence", headers=issuer, json={
        "name": 'acta "firmada"; x=1 Mejía ʼ.pdf', "mediaType": "application/pdf",
        "contentBase64": base64.b64encode(b"%PDF-1.4").decode()})
    assert added.status == 201, await added.text()
    fetched = await client.get(f"{url}/evidence/{(await added.json())['id']}", headers=issuer)
    disposition = fetched.headers["Content-Disposition"]
    ascii_part = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in ascii_part and ";" not in ascii_part and ascii_part.isascii()
    assert "filename*=UTF-8''acta%20%22firmada%22%3B%20x%3D1%20Mej%C3%ADa%20%CA%BC.pdf" in disposition


async def test_nosniff_on_every_response(client):
    health = await client.get("/health")
    assert health.headers["X-Content-Type-Options"] == "nosniff"
    missing = await client.get("/no-such-path")
    assert missing.status == 404 and missing.headers["X-Content-Type-Options"] == "nosniff"
    did = await client.get("/.well-known/did.json")
    unchanged = await client.get("/.well-known/did.json", headers={"If-None-Match": did.headers["ETag"]})
    assert unchanged.status == 304 and unchanged.headers["X-Content-Type-Options"] == "nosniff"
    unauthorized = await client.post("/rpl/cases", json={})
    assert unauthorized.status == 401 and unauthorized.headers["X-Content-Type-Options"] == "nosniff"
