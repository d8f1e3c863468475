"""Sign/verify speed of both cryptosuites on a realistic ~4 KB Open Badges 3.0 credential, one core.

The baseline, measured in the same run, is stock pyld URDNA2015 with no context caching at all (what a
straightforward implementation does); the rdfc speed-up is against a full sign built on it.
Targets (2-core machine): jcs ≥ 2,000 signs/s and ≥ 1,500 verifies/s; rdfc median sign ≤ 6 ms and
≥ 2× faster than the baseline.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pyld import jsonld

from benchmarks.common import median_ms, ops_per_second, print_table, write_results
from node.crypto.data_integrity import add_proof, verify_document
from node.crypto.keys import KeyPair
from node.jsonld.loader import get_context

CREDENTIAL = json.loads((Path(__file__).parent / "data/ob3-credential.json").read_text())
CREATED = "2026-06-01T00:00:00Z"


def _uncached_loader(url, options=None):
    return {"contextUrl": None, "documentUrl": url, "document": get_context(url)}  # no 'static' tag: no reuse


def _baseline_normalize(document) -> str:
    jsonld._resolved_context_cache.clear()
    return jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": _uncached_loader})


def _baseline_sign(key: KeyPair) -> bytes:
    config = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": CREATED,
              "verificationMethod": key.id, "proofPurpose": "assertionMethod", "@context": CREDENTIAL["@context"]}
    data = hashlib.sha256(_baseline_normalize(config).encode()).digest() + hashlib.sha256(_baseline_normalize(CREDENTIAL).encode()).digest()
    return key.sign(data)


def main() -> dict:
    key = KeyPair.from_seed(bytes(range(32)))
    lookup = lambda vm: key.public_key  # noqa: E731 — key resolution is not what is measured
    results: dict = {"credential_bytes": len(json.dumps(CREDENTIAL).encode())}
    rows = []
    for suite in ("eddsa-jcs-2022", "eddsa-rdfc-2022"):
        signed = add_proof(CREDENTIAL, key, suite=suite, created=CREATED)
        assert verify_document(signed, lookup).verified
        sign = lambda: add_proof(CREDENTIAL, key, suite=suite, created=CREATED)  # noqa: E731
        verify = lambda: verify_document(signed, lookup)  # noqa: E731
        entry = {
            "sign_median_ms": median_ms(sign, repeat=300),
            "verify_median_ms": median_ms(verify, repeat=300),
            "sign_ops_per_s": ops_per_second(sign, seconds=1.5),
            "verify_ops_per_s": ops_per_second(verify, seconds=1.5),
        }
        results[suite] = entry
        rows.append([suite, entry["sign_median_ms"], entry["verify_median_ms"], round(entry["sign_ops_per_s"]), round(entry["verify_ops_per_s"])])

    baseline = {
        "description": "stock pyld URDNA2015, no context caching",
        "normalize_median_ms": median_ms(lambda: _baseline_normalize(CREDENTIAL), repeat=60),
        "rdfc_sign_median_ms": median_ms(lambda: _baseline_sign(key), repeat=60),
    }
    baseline["rdfc_sign_speedup"] = baseline["rdfc_sign_median_ms"] / results["eddsa-rdfc-2022"]["sign_median_ms"]
    results["baseline"] = baseline
    rows.append(["baseline rdfc (pyld, no cache)", baseline["rdfc_sign_median_ms"], "", "", ""])
    results["targets"] = {
        "eddsa-jcs-2022 sign_ops_per_s >= 2000": results["eddsa-jcs-2022"]["sign_ops_per_s"] >= 2000,
        "eddsa-jcs-2022 verify_ops_per_s >= 1500": results["eddsa-jcs-2022"]["verify_ops_per_s"] >= 1500,
        "eddsa-rdfc-2022 sign_median_ms <= 6": results["eddsa-rdfc-2022"]["sign_median_ms"] <= 6,
        "eddsa-rdfc-2022 speedup >= 2": baseline["rdfc_sign_speedup"] >= 2,
    }
    print_table(["suite", "sign ms (median)", "verify ms (median)", "signs/s", "verifies/s"], rows)
    print(f"rdfc sign speed-up over baseline: {baseline['rdfc_sign_speedup']:.1f}x")
    for target, met in results["targets"].items():
        print(f"  [{'ok' if met else 'MISSED'}] {target}")
    write_results("crypto", results)
    return results


if __name__ == "__main__":
    main()
