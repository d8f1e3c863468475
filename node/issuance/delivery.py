"""Delivering a credential to a person: its JSON, a QR code (PNG/SVG) and a one-page PDF.

The QR never holds the credential itself (too large, and personal data): it links to the node's
public verification endpoint for that credential, so whoever scans it sees a live verdict
(including revocation), not a copy that could be out of date. A PDF printed after the credential was
revoked or suspended says so at the top, with the date.

The PDF uses the bundled DejaVu Sans (fonts/, see PROVENANCE.md): the PDF core fonts are Latin-1 and
cannot print "Bʼalam", "Nguyễn" or "—". Rendering is CPU work (font subsetting, PNG encoding), so
request handlers call `render_off_loop`, which runs it in a worker thread and keeps recent results by
the document's SHA-256 (and status), so the event loop never waits on it and a popular QR is drawn once.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any, Sequence

from cachetools import LRUCache

from node.errors import InvalidInput

FORMATS = {"json": "application/json", "png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
PARTIAL_ACHIEVEMENT_TYPE = "ext:PartialQualification"  # node.issuance.ob3.partial_achievement
FONT_FAMILY = "DejaVuSans"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
STATUS_LABELS = {"revoked": "REVOCADA", "suspended": "SUSPENDIDA"}
STATUS_ACTIONS = {"revoked": "revoke", "suspended": "suspend"}


@dataclass(frozen=True)
class StatusNote:
    """What a PDF printed for a credential that is no longer active says: its state and since when."""

    state: str  # "revoked" or "suspended"
    at: str  # ISO 8601 date-time of the change

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.state]


def status_note(state: str, events: Sequence[dict[str, Any]]) -> StatusNote | None:
    """None for an active credential; otherwise the state and the time of the change that led to it
    (events as in IssuanceService.credential_status)."""
    action = STATUS_ACTIONS.get(state)
    if action is None:
        return None
    changes = [e for e in events if e.get("action") == action]
    return StatusNote(state, str(changes[-1].get("at") or "") if changes else "")


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
    partial = achievement.get("achievementType") == PARTIAL_ACHIEVEMENT_TYPE
    return {
        "partial": partial,  # only the units in "outcomes" are certified, never the whole qualification
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


def _text(value: Any) -> str:
    """NFC, so a name typed with combining marks prints with the font's precomposed glyphs."""
    return unicodedata.normalize("NFC", str(value))


@functools.lru_cache(maxsize=None)
def _font_path(style: str) -> str:
    return str(resources.files("node.issuance").joinpath("fonts", FONT_FILES[style]))


def pdf(credential: dict[str, Any], link: str, *, status: StatusNote | None = None) -> bytes:
    from fpdf import FPDF

    info = claims(credential)
    doc = FPDF(format="A4")
    for style in FONT_FILES:
        doc.add_font(FONT_FAMILY, style, _font_path(style))
    qr_size = 45
    # Long content (a partial recognition lists every certified unit) flows onto a second page rather
    # than under the QR block, which always sits at the bottom of the last page.
    doc.set_auto_page_break(True, margin=doc.b_margin)
    doc.add_page()
    doc.set_title(_text(info["achievement"]))
    width = doc.w - doc.l_margin - doc.r_margin

    def line(text: str, size: float = 11, style: str = "", height: float = 6) -> None:
        doc.set_font(FONT_FAMILY, style, size)
        doc.multi_cell(width, height, _text(text), align="L", new_x="LMARGIN", new_y="NEXT")

    if status is not None:
        # First thing on the page, white on red: a printed copy must not pass for a valid credential.
        doc.set_fill_color(176, 0, 32)
        doc.set_text_color(255, 255, 255)
        doc.set_font(FONT_FAMILY, "B", 16)
        since = f" el {status.at[:10]}" if status.at else ""
        doc.multi_cell(width, 9, f"CREDENCIAL {status.label}{since}", fill=True, align="C", new_x="LMARGIN", new_y="NEXT")
        doc.set_font(FONT_FAMILY, "", 9)
        doc.multi_cell(width, 5, "El emisor la dejó sin efecto: no acredita lo que dice. Compruebe su estado en el enlace.",
                       fill=True, align="C", new_x="LMARGIN", new_y="NEXT")
        doc.set_text_color(0, 0, 0)
        doc.ln(4)
    line(info["issuer"], 12, "B")
    doc.ln(6)
    line("Certifica que", 11)
    line(info["holder"], 22, "B", 11)
    doc.ln(2)
    if info["partial"]:
        line("Reconocimiento parcial: solo las unidades indicadas, no la calificación completa", 11, "B")
        line("ha obtenido el reconocimiento de", 11)
    else:
        line("ha obtenido", 11)
    line(info["achievement"], 18 if not info["partial"] else 15, "B", 9)
    if info["description"]:
        line(info["description"], 10)
    doc.ln(3)
    for alignment in info["alignments"]:
        line(alignment, 10, "", 5)
    if info["workload"]:
        line(f"Carga horaria: {info['workload']:g} horas", 10, "", 5)
    if info["outcomes"]:
        doc.ln(2)
        # Every certified unit of a partial recognition is listed (the list is the whole claim).
        line("Unidades certificadas:" if info["partial"] else "Resultados de aprendizaje:", 10, "B", 5)
        for outcome in info["outcomes"] if info["partial"] else info["outcomes"][:10]:
            line(f"- {outcome}", 9, "", 5)
    doc.ln(3)
    line(f"Fecha de emisión: {info['valid_from']}" + (f"    Válido hasta: {info['valid_until']}" if info["valid_until"] else ""), 10)
    top = doc.h - doc.b_margin - qr_size - 4
    if doc.get_y() > top - 2:
        doc.add_page()
    doc.set_auto_page_break(False)
    doc.image(io.BytesIO(qr_png(link, box_size=10)), x=doc.l_margin, y=top, w=qr_size, h=qr_size)
    doc.set_xy(doc.l_margin + qr_size + 6, top + 4)
    doc.set_font(FONT_FAMILY, "", 8)
    note = ("Credencial verificable (Open Badges 3.0, firma digital). Escanee el código o visite el enlace para "
            f"comprobar su autenticidad y vigencia:\n{link}\n\nEmisor: {info['issuer_id']}\nCredencial: {info['id']}")
    doc.multi_cell(width - qr_size - 6, 4, _text(note))
    return bytes(doc.output())


def render(document: str, fmt: str, *, verify_url: str, status: StatusNote | None = None) -> bytes:
    """One delivery format of a stored credential (its exact signed bytes for JSON). `status` marks a
    PDF of a revoked or suspended credential; the QR codes only link, so they never change."""
    if fmt == "json":
        return document.encode("utf-8")
    if fmt == "png":
        return qr_png(verify_url)
    if fmt == "svg":
        return qr_svg(verify_url)
    if fmt == "pdf":
        return pdf(json.loads(document), verify_url, status=status)
    raise InvalidInput(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


# Recent renderings by (document SHA-256, format, link, status), bounded in bytes. Only the event loop's
# thread reads and writes it (around the await), so it needs no lock.
_RENDERED: LRUCache = LRUCache(maxsize=32 * 1024 * 1024, getsizeof=len)


async def render_off_loop(document: str, fmt: str, *, verify_url: str, status: StatusNote | None = None) -> bytes:
    """`render` in a worker thread, cached by the document's digest: the event loop never draws a PDF."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "json":
        return document.encode("utf-8")
    key = (hashlib.sha256(document.encode("utf-8")).hexdigest(), fmt, verify_url, status if fmt == "pdf" else None)
    body = _RENDERED.get(key)
    if body is None:
        body = await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(render, document, fmt, verify_url=verify_url, status=key[3]))
        _RENDERED[key] = body
    return body


def clear_render_cache() -> None:
    _RENDERED.clear()
