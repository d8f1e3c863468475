"""The human page behind a credential's QR code: what an employer sees on a phone, no account needed."""

from __future__ import annotations

from html import escape
from typing import Any

from node.issuance.delivery import claims

REASONS = {
    "revoked": "revocada por el emisor", "suspended": "suspendida temporalmente por el emisor",
    "expired": "vencida", "not_yet_valid": "todavía no vigente", "out_of_scope": "fuera del alcance acreditado del emisor",
    "not_accredited": "el emisor no estaba acreditado en la fecha de emisión", "unknown_issuer": "emisor desconocido",
}


def verification_page(credential: dict[str, Any], result: dict[str, Any]) -> str:
    info = claims(credential)
    ok = result.get("verified") is True
    failures = [c for c in result.get("checks", []) if not c.get("ok")]
    verdict = "Credencial válida" if ok else "Credencial NO válida"
    why = "".join(f"<li>{escape(REASONS.get(c.get('reason') or '', c.get('reason') or 'error'))} "
                  f"<small>({escape(str(c.get('check')))})</small></li>" for c in failures)
    scope = []
    if info["partial"]:  # said before anything else about the achievement: it is not the whole qualification
        scope = [("Alcance", "Reconocimiento parcial: solo las unidades certificadas, no la calificación completa"),
                 ("Unidades certificadas", "; ".join(info["outcomes"]))]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in (
        ("Titular", info["holder"]), *scope, ("Logro", info["achievement"]), ("Emisor", info["issuer"]),
        ("Emitida", info["valid_from"]), ("Vigente hasta", info["valid_until"] or "sin vencimiento"),
        ("Niveles", "; ".join(info["alignments"]))))
    color = "#1b7f3b" if ok else "#b00020"
    partial = ("<p><strong>Reconocimiento parcial</strong>: esta credencial certifica solo las unidades indicadas.</p>"
               if info["partial"] else "")
    return _page(verdict, color, (f"<ul>{why}</ul>" if why else "") + partial
                 + f"<table>{rows}</table><p><small>{escape(info['id'])}</small></p>")


def not_found_page(credential_id: str) -> str:
    """What a phone shows for a QR code (or typed link) naming no credential issued here."""
    return _page("Credencial no encontrada", "#b00020",
                 "<p>Este nodo no emitió ninguna credencial con este identificador. Revise que el enlace o el "
                 "código QR estén completos, o consulte a la institución que la emitió.</p>"
                 f"<p><small>{escape(credential_id)}</small></p>")


def _page(title: str, color: str, body: str) -> str:
    """A small page readable on a phone: side padding, long identifiers wrap instead of widening the page."""
    return (
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;max-width:40em;margin:1em auto;"
        "padding:0 1em;overflow-wrap:anywhere}th{text-align:left;vertical-align:top;padding-right:1em}</style>"
        f"</head><body><h1 style=\"color:{color}\">{escape(title)}</h1>{body}</body></html>"
    )
