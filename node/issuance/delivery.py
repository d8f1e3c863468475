"""Delivering a credential to a person: its JSON, a QR code (PNG/SVG) and a one-page PDF.

The QR never holds the credential itself (too large, and personal data): it links to the node's
public verification endpoint for that credential, so whoever scans it sees a live verdict
(including revocation), not a copy that could be out of date.
"""

from __future__ import annotations

import io
import json
from typing import Any

from node.errors import InvalidInput

FORMATS = {"json": "application/json", "png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def verify_url(base_url: str, credential_uuid: str) -> str:
    return f"{base_url}/verify/{credential_uuid}"


def qr_png(data: str, *, box_size: int = 8) -> bytes:
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(data: str) -> bytes:
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(data, image_factory=SvgPathImage, error_correction=qrcode.constants.ERROR_CORRECT_M)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The human-readable claims of an OB3 credential, as printed on the PDF."""
    subject = credential.get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    names = [i.get("identityHash") for i in subject.get("identifier") or [] if i.get("identityType") == "name" and not i.get("hashed")]
    issuer = credential.get("issuer") or {}
    levels = []
    for alignment in achievement.get("alignment") or []:
        if alignment.get("targetType") in ("ext:RQFLevel", "ext:NationalLevel", "ceterms:Credential"):
            code = alignment.get("targetCode")
            levels.append(f"{alignment.get('targetName')}" + (f" ({code})" if code and code not in alignment.get("targetName", "") else ""))
    outcomes = [line[2:] for line in (achievement.get("criteria") or {}).get("narrative", "").splitlines() if line.startswith("- ")]
    return {
        "holder": names[0] if names else subject.get("id", ""),
        "holder_id": subject.get("id"),
        "achievement": achievement.get("name") or credential.get("name", ""),
        "description": achievement.get("description", ""),
        "issuer": issuer.get("name") if isinstance(issuer, dict) else str(issuer),
        "issuer_id": issuer.get("id") if isinstance(issuer, dict) else str(issuer),
        "valid_from": (credential.get("validFrom") or "")[:10],
        "valid_until": (credential.get("validUntil") or "")[:10],
        "alignments": levels,
        "outcomes": outcomes,
        "workload": achievement.get("notionalWorkloadHours"),
        "id": credential.get("id", ""),
    }


def _latin1(text: Any) -> str:
    """The PDF core fonts are Latin-1: Spanish text fits; anything else degrades to '?', never an error."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def pdf(credential: dict[str, Any], link: str) -> bytes:
    from fpdf import FPDF

    info = claims(credential)
    doc = FPDF(format="A4")
    doc.set_auto_page_break(False)
    doc.add_page()
    doc.set_title(_latin1(info["achievement"]))
    width = doc.w - doc.l_margin - doc.r_margin

    def line(text: str, size: int = 11, style: str = "", height: float = 6) -> None:
        doc.set_font("Helvetica", style, size)
        doc.multi_cell(width, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    line(info["issuer"], 12, "B")
    doc.ln(6)
    line("Certifica que", 11)
    line(info["holder"], 22, "B", 11)
    doc.ln(2)
    line("ha obtenido", 11)
    line(info["achievement"], 18, "B", 9)
    if info["description"]:
        line(info["description"], 10)
    doc.ln(3)
    for alignment in info["alignments"]:
        line(alignment, 10, "", 5)
    if info["workload"]:
        line(f"Carga horaria: {info['workload']:g} horas", 10, "", 5)
    if info["outcomes"]:
        doc.ln(2)
        line("Resultados de aprendizaje:", 10, "B", 5)
        for outcome in info["outcomes"][:10]:
            line(f"- {outcome}", 9, "", 5)
    doc.ln(3)
    line(f"Fecha de emisión: {info['valid_from']}" + (f"    Válido hasta: {info['valid_until']}" if info["valid_until"] else ""), 10)
    qr_size = 45
    top = doc.h - doc.b_margin - qr_size - 4
    doc.image(io.BytesIO(qr_png(link, box_size=10)), x=doc.l_margin, y=top, w=qr_size, h=qr_size)
    doc.set_xy(doc.l_margin + qr_size + 6, top + 4)
    doc.set_font("Helvetica", "", 8)
    note = ("Credencial verificable (Open Badges 3.0, firma digital). Escanee el código o visite el enlace para "
            f"comprobar su autenticidad y vigencia:\n{link}\n\nEmisor: {info['issuer_id']}\nCredencial: {info['id']}")
    doc.multi_cell(width - qr_size - 6, 4, _latin1(note))
    return bytes(doc.output())


def render(document: str, fmt: str, *, verify_url: str) -> bytes:
    """One delivery format of a stored credential (its exact signed bytes for JSON)."""
    if fmt == "json":
        return document.encode("utf-8")
    if fmt == "png":
        return qr_png(verify_url)
    if fmt == "svg":
        return qr_svg(verify_url)
    if fmt == "pdf":
        return pdf(json.loads(document), verify_url)
    raise InvalidInput(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
