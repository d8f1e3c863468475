import io
import json

import pytest

from node.errors import InvalidInput
from node.issuance import delivery
from node.issuance.model import make_recipient
from node.issuance.ob3 import build_credential

LINK = "http://127.0.0.1:8080/verify/0b5c"


@pytest.fixture
def credential(template, institution, issued_at, base_url):
    return build_credential(template=template, institution=institution, recipient=make_recipient("José", "Pérez Ñuñez", "jose@example.org", "s"),
                            credential_id=f"{base_url}/credentials/0b5c", issued_at=issued_at, credential_status=None, base_url=base_url,
                            puente_terms=True)


def png_size(png: bytes):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(png)).size


def test_qr_png_and_svg_encode_the_verification_link():
    png = delivery.qr_png(LINK)
    assert png.startswith(b"\x89PNG") and png_size(png)[0] > 100
    assert png == delivery.qr_png(LINK) and png != delivery.qr_png(LINK + "x")
    svg = delivery.qr_svg(LINK)
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg


def test_claims_are_human_readable(credential):
    info = delivery.claims(credential)
    assert info["holder"] == "José Pérez Ñuñez"
    assert info["achievement"] == "Albañil (nivel 2)"
    assert "RQF level 2" in info["alignments"] and any("GT-CON-ALB-2" in a for a in info["alignments"])
    assert info["outcomes"] == ["Interpreta planos sencillos", "Levanta muros de block"]
    assert info["valid_until"] == "2031-03-01" and info["workload"] == 320


def test_pdf_is_one_page_with_claims_and_link(credential):
    body = delivery.render(json.dumps(credential), "pdf", verify_url=LINK)
    assert body.startswith(b"%PDF-")
    assert body.count(b"/Type /Page") - body.count(b"/Type /Pages") == 1
    assert b"/Subtype /Image" in body  # the QR code


def test_json_is_the_exact_stored_bytes_and_bad_format_refused(credential):
    text = json.dumps(credential, ensure_ascii=False)
    assert delivery.render(text, "json", verify_url=LINK) == text.encode("utf-8")
    with pytest.raises(InvalidInput):
        delivery.render(text, "docx", verify_url=LINK)


def pdf_text(body: bytes) -> str:
    """The text a reader extracts (the bundled font encodes glyph ids, so the raw stream is not the text)."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_pdf_prints_the_claims(credential):
    text = pdf_text(delivery.render(json.dumps(credential), "pdf", verify_url=LINK))
    for expected in ("José Pérez Ñuñez", "Albañil", "RQF level 2", "Levanta muros de block", "2031-03-01", LINK):
        assert expected in text, expected
