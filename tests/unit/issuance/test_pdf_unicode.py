"""PDFs render every name (bundled Unicode font), say when a credential is revoked or suspended, and are
rendered off the event loop (issue 8, item 8: the PDF parts)."""

from __future__ import annotations

import asyncio
import io
import json
import threading

import pytest

from node.issuance import delivery
from node.issuance.model import make_recipient
from node.issuance.ob3 import build_credential

LINK = "http://127.0.0.1:8080/verify/0b5c"
NAMES = [
    ("Bʼalam", "Ajpop"),  # K'iche' / Mayan: U+02BC MODIFIER LETTER APOSTROPHE
    ("Nguyễn Thị", "Minh Khai"),  # Vietnamese: stacked diacritics
    ("João", "Conceição"),  # Portuguese
    ("Xóchitl", "Ñancupil Quispe"),
]


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def credential_for(template, institution, issued_at, base_url, given, family):
    return build_credential(template=template, institution=institution, recipient=make_recipient(given, family, "x@example.org", "s"),
                            credential_id=f"{base_url}/credentials/0b5c", issued_at=issued_at, credential_status=None,
                            base_url=base_url, puente_terms=True)


@pytest.mark.parametrize("given,family", NAMES)
def test_every_name_renders_exactly(template, institution, issued_at, base_url, given, family):
    credential = credential_for(template, institution, issued_at, base_url, given, family)
    text = pdf_text(delivery.render(json.dumps(credential, ensure_ascii=False), "pdf", verify_url=LINK))
    assert f"{given} {family}" in text
    assert "?" not in text.replace(LINK, "")  # nothing degraded to a replacement mark


def test_issuer_and_achievement_names_beyond_latin1_render(template_factory, institution, issued_at, base_url):
    template = template_factory(name="Kʼicheʼ: Tejedora — nivel 2", learning_outcomes=["Teje güipil con técnica de cintura ʼ"])
    credential = build_credential(template=template, institution=institution, recipient=make_recipient("Ana", "Tʼzul", "a@example.org", "s"),
                                  credential_id=f"{base_url}/credentials/0b5c", issued_at=issued_at, credential_status=None,
                                  base_url=base_url)
    text = pdf_text(delivery.pdf(credential, LINK))
    for expected in ("Kʼicheʼ: Tejedora — nivel 2", "Ana Tʼzul", "Teje güipil con técnica de cintura ʼ", "Fecha de emisión"):
        assert expected in text, expected


def test_the_font_is_bundled_with_its_licence():
    from importlib import resources

    fonts = resources.files("node.issuance").joinpath("fonts")
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt", "PROVENANCE.md"):
        assert fonts.joinpath(name).is_file(), name
    assert fonts.joinpath("DejaVuSans.ttf").read_bytes()[:4] == b"\x00\x01\x00\x00"  # a TrueType file, not a pointer


@pytest.mark.parametrize("state,label", [("revoked", "REVOCADA"), ("suspended", "SUSPENDIDA")])
def test_a_revoked_or_suspended_credential_says_so_with_the_date(template, institution, issued_at, base_url, state, label):
    credential = credential_for(template, institution, issued_at, base_url, "Ana", "López")
    status = delivery.StatusNote(state, "2026-04-02T09:30:00Z")
    text = pdf_text(delivery.render(json.dumps(credential), "pdf", verify_url=LINK, status=status))
    assert f"CREDENCIAL {label}" in text and "2026-04-02" in text
    assert label not in pdf_text(delivery.render(json.dumps(credential), "pdf", verify_url=LINK))


def test_an_active_status_note_changes_nothing(template, institution, issued_at, base_url):
    credential = json.dumps(credential_for(template, institution, issued_at, base_url, "Ana", "López"))
    assert delivery.status_note("active", []) is None
    active = delivery.render(credential, "pdf", verify_url=LINK, status=None)
    assert "REVOCADA" not in pdf_text(active) and "SUSPENDIDA" not in pdf_text(active)


def test_status_note_takes_the_date_of_the_change_that_led_to_the_state():
    events = [{"action": "suspend", "reason": "revisión", "at": "2026-04-01T00:00:00+00:00"},
              {"action": "revoke", "reason": "fraude", "at": "2026-04-03T10:00:00+00:00"}]
    note = delivery.status_note("revoked", events)
    assert note == delivery.StatusNote("revoked", "2026-04-03T10:00:00+00:00")
    assert delivery.status_note("suspended", events[:1]).at.startswith("2026-04-01")


async def test_rendering_runs_off_the_event_loop_and_is_cached_by_digest(template, institution, issued_at, base_url, monkeypatch):
    delivery.clear_render_cache()
    credential = json.dumps(credential_for(template, institution, issued_at, base_url, "Ana", "López"))
    threads, real = [], delivery.render

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery, "render", spy)
    first = await delivery.render_off_loop(credential, "pdf", verify_url=LINK)
    again = await delivery.render_off_loop(credential, "pdf", verify_url=LINK)
    assert first == again and first.startswith(b"%PDF-")
    assert len(threads) == 1 and threads[0] is not threading.main_thread()  # rendered once, in a worker thread
    revoked = await delivery.render_off_loop(credential, "pdf", verify_url=LINK, status=delivery.StatusNote("revoked", "2026-04-02"))
    assert revoked != first and len(threads) == 2  # a status change is a different document
    await asyncio.gather(*(delivery.render_off_loop(credential, fmt, verify_url=LINK) for fmt in ("png", "svg")))
    assert all(t is not threading.main_thread() for t in threads)
