"""Registered Data Integrity cryptosuites. A suite is a small record, as in Digital Bazaar's libraries."""

from __future__ import annotations

from node.crypto.cryptosuites.base import Cryptosuite, UnknownCryptosuite
from node.crypto.cryptosuites.eddsa_jcs_2022 import EDDSA_JCS_2022
from node.crypto.cryptosuites.eddsa_rdfc_2022 import EDDSA_RDFC_2022

SUITES: dict[str, Cryptosuite] = {s.name: s for s in (EDDSA_RDFC_2022, EDDSA_JCS_2022)}
DEFAULT_SUITE = EDDSA_RDFC_2022.name


def get_suite(name: object) -> Cryptosuite:
    if not isinstance(name, str) or name not in SUITES:
        raise UnknownCryptosuite(f"unknown cryptosuite {name!r} (supported: {', '.join(SUITES)})")
    return SUITES[name]


__all__ = ["Cryptosuite", "UnknownCryptosuite", "SUITES", "DEFAULT_SUITE", "get_suite"]
