"""A revoked or suspended credential's PDF says so (HTTP and CLI export), and the CPU work of issuing and
delivering (OB 3.0 schema validation, PDF/QR drawing) runs off the event loop (issue 8, item 8)."""

from __future__ import annotations

import io
import threading

ROW = {"given_name": "Bʼalam", "family_name": "Ajpop", "identifier": "balam@example.org"}


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


async def test_the_pdf_of_a_revoked_credential_says_so_with_the_date(client, services, issuance, clock):
    from node.issuance import delivery

    delivery.clear_render_cache()
    issued = await issuance.issue_one("intecap-albanileria-2", ROW)
    url = f"/credentials/{issued.id}/credential.pdf"
    before = await client.get(url)
    text = pdf_text(await before.read())
    assert "Bʼalam Ajpop" in text and "REVOCADA" not in text

    clock.advance(days=30)
    await issuance.change_status(issued.id, "revoke", "issued in error")
    after = await client.get(url)
    text = pdf_text(await after.read())
    revoked_on = clock.now().date().isoformat()
    assert f"CREDENCIAL REVOCADA el {revoked_on}" in text and "Bʼalam Ajpop" in text
    assert after.headers["ETag"] != before.headers["ETag"]  # a cached copy of the valid PDF is not reused


async def test_pdf_and_qr_are_drawn_in_a_worker_thread(client, issuance, monkeypatch):
    from node.issuance import delivery

    delivery.clear_render_cache()
    issued = await issuance.issue_one("intecap-albanileria-2", ROW)
    threads, real = [], delivery.render

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery, "render", spy)
    for path in ("credential.pdf", "qr.png", "qr.svg", "credential.pdf"):
        assert (await client.get(f"/credentials/{issued.id}/{path}")).status == 200
    assert len(threads) == 3  # the second PDF came from the cache (same document digest, same status)
    assert all(t is not threading.main_thread() for t in threads)


async def test_schema_validation_of_new_credentials_runs_off_the_event_loop(services, issuance, monkeypatch):
    from node.issuance import service as service_module

    # The issuance service's schema check (named ob3_first_error where credentialStatus may be an array).
    name = "ob3_first_error" if hasattr(service_module, "ob3_first_error") else "first_error"
    threads, real = [], getattr(service_module, name)

    def spy(document):
        threads.append(threading.current_thread())
        return real(document)

    monkeypatch.setattr(service_module, name, spy)
    await issuance.issue_one("intecap-albanileria-2", ROW)
    assert threads and all(t is not threading.main_thread() for t in threads)


def test_cli_export_of_a_revoked_credential_pdf_says_so(node, capsys, monkeypatch, tmp_path):
    import json

    from node.cli import main

    monkeypatch.setenv("PUENTE_DATA_DIR", str(node.data_dir))
    monkeypatch.chdir(tmp_path)

    def run(*args):
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    run("institution", "create", "--slug", "intecap", "--name", "INTECAP", "--sector", "construction", "--rqf-level", "2")
    template = {"id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
                "description": "Construye muros.", "sector": "construction", "rqf_level": 2}
    (tmp_path / "template.json").write_text(json.dumps(template))
    run("template", "create", tmp_path / "template.json")
    issued = json.loads(run("issue", "one", "--template", "intecap-albanileria-2", "--given-name", "Nguyễn Thị",
                            "--family-name", "Minh Khai", "--identifier", "minh@example.org"))
    credential_id = issued["id"]  # without --out, the signed credential itself
    run("credential", "revoke", credential_id, "--reason", "issued in error")
    run("credential", "export", credential_id, "--format", "pdf", "--out", tmp_path / "revoked.pdf")
    text = pdf_text((tmp_path / "revoked.pdf").read_bytes())
    assert "CREDENCIAL REVOCADA el " in text and "Nguyễn Thị Minh Khai" in text


async def test_schema_validation_on_verify_runs_off_the_event_loop(services, issuance, monkeypatch):
    from node.issuance import schema
    from node.issuance.verify import verify_credential

    issued = await issuance.issue_one("intecap-albanileria-2", ROW)
    # The verifier's schema check (named ob3_schema_errors where credentialStatus may be an array).
    name = next(n for n in ("ob3_schema_verdict", "ob3_schema_errors", "schema_errors") if hasattr(schema, n))
    threads, real = [], getattr(schema, name)

    def spy(document):
        threads.append(threading.current_thread())
        return real(document)

    monkeypatch.setattr(schema, name, spy)
    result = await verify_credential(services, issued.to_json())
    assert any(c.check == "schema" and c.ok for c in result.checks)
    assert threads and all(t is not threading.main_thread() for t in threads)
