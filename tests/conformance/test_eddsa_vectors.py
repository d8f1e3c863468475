"""The W3C vc-di-eddsa vectors, reproduced byte for byte: canonical forms, hashes, signatures, documents."""

import hashlib
import json
from pathlib import Path

import pytest

from node.crypto.canonicalize import jcs, rdfc
from node.crypto.cryptosuites import get_suite
from node.crypto.data_integrity import add_proof, verify_document
from node.crypto.keys import KeyPair

VECTORS = {
    # name: (folder, unsigned file, signed file, suite, proof-config file, file suffix)
    "rdfc": ("eddsa/rdfc", "unsigned.json", "signedDataInt.json", "eddsa-rdfc-2022", "proofConfigDataInt.json", "DataInt"),
    "rdfc-employ": ("eddsa/rdfc/employ", "employmentAuth.json", "signedDataInt.json", "eddsa-rdfc-2022", "proofConfigDataInt.json", "DataInt"),
    "jcs": ("eddsa/jcs", "unsigned.json", "signedJCS.json", "eddsa-jcs-2022", "proofConfigJCS.json", "JCS"),
}


@pytest.fixture(params=sorted(VECTORS))
def vector(request, conformance_dir):
    folder, unsigned, signed, suite, config, suffix = VECTORS[request.param]
    base = conformance_dir / folder
    read = lambda name: (base / name).read_text()
    return {
        "key": KeyPair.from_json(json.loads((conformance_dir / "eddsa/rdfc/keyPair.json").read_text())),
        "unsigned": json.loads(read(unsigned)),
        "signed": json.loads(read(signed)),
        "suite": suite,
        "config": json.loads(read(config)),
        "canon_doc": read(f"canonDoc{suffix}.txt"),
        "canon_proof": read(f"proofCanon{suffix}.txt"),
        "doc_hash": read(f"docHash{suffix}.txt").strip(),
        "proof_hash": read(f"proofHash{suffix}.txt").strip(),
        "sig_b58": read(f"sigBTC58{suffix}.txt").strip(),
    }


def canonical(suite: str, document) -> str:
    return rdfc(document) if suite == "eddsa-rdfc-2022" else jcs(document).decode()


def test_canonical_document_matches(vector):
    assert canonical(vector["suite"], vector["unsigned"]) == vector["canon_doc"].rstrip("\n") + ("\n" if vector["suite"] == "eddsa-rdfc-2022" else "")


def test_canonical_proof_config_and_hashes_match(vector):
    suite = get_suite(vector["suite"])
    canon_proof = suite.canonicalize(vector["config"]).decode()
    assert canon_proof.strip() == vector["canon_proof"].strip()
    assert hashlib.sha256(canon_proof.encode()).hexdigest() == vector["proof_hash"]
    assert hashlib.sha256(suite.canonicalize(vector["unsigned"])).hexdigest() == vector["doc_hash"]


def test_signing_reproduces_signed_document_byte_for_byte(vector):
    created = vector["signed"]["proof"]["created"]
    signed = add_proof(vector["unsigned"], vector["key"], suite=vector["suite"], created=created)
    assert signed["proof"]["proofValue"] == vector["sig_b58"]
    assert json.dumps(signed, sort_keys=True) == json.dumps(vector["signed"], sort_keys=True)


def test_published_signed_document_verifies(vector):
    result = verify_document(vector["signed"], lambda vm: vector["key"].public_key)
    assert result.verified, result.to_json()


def test_key_pair_vector_derives_listed_public_key(conformance_dir):
    data = json.loads((conformance_dir / "eddsa/rdfc/keyPair.json").read_text())
    assert KeyPair.from_json(data).public_multibase == data["publicKeyMultibase"]


@pytest.mark.parametrize("folder", ["obv3p0", "clrv2p0"])
def test_open_badges_vectors_canonicalize_to_published_nquads(conformance_dir, folder):
    base = conformance_dir / "openbadges/test-vectors" / folder
    signed = json.loads((base / "signed-credential.json").read_text())
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert rdfc(unsigned) == (base / "document-canon.txt").read_text()
