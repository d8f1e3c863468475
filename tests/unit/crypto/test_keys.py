import json
import os
import stat

import pytest

from node.crypto import multibase
from node.crypto.keys import KeyPair
from node.errors import InvalidInput


def test_generate_round_trips_through_key_file(tmp_path):
    key = KeyPair.generate(controller="did:web:example.org", fragment="key-1")
    assert key.id == "did:web:example.org#key-1"
    path = tmp_path / "key.json"
    key.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = KeyPair.load(path)
    assert loaded.id == key.id and loaded.public_multibase == key.public_multibase
    assert loaded.sign(b"m") == key.sign(b"m")


def test_secret_never_in_repr():
    key = KeyPair.generate()
    assert key.secret_multibase() not in repr(key)


def test_accepts_64_byte_secret_and_w3c_name():
    key = KeyPair.from_seed(bytes(range(32)))
    sixty_four = multibase.encode_base58btc(multibase.ED25519_PRIV + key.seed() + multibase.decode_public_key(key.public_multibase))
    for field in ("secretKeyMultibase", "privateKeyMultibase"):
        loaded = KeyPair.from_json({field: sixty_four})
        assert loaded.public_multibase == key.public_multibase
        assert loaded.id == f"did:key:{key.public_multibase}#{key.public_multibase}"


@pytest.mark.parametrize("data,message", [
    ([], "JSON object"),
    ({}, "no secretKeyMultibase"),
    ({"secretKeyMultibase": "zzz"}, "bad key file"),
    ({"secretKeyMultibase": "not-multibase"}, "bad key file"),
    ({"secretKeyMultibase": multibase.encode_base58btc(b"\x80\x26" + bytes(31))}, "bad key file"),
    ({"secretKeyMultibase": multibase.encode_base58btc(b"\xed\x01" + bytes(32))}, "bad key file"),
])
def test_bad_key_files_refused(data, message):
    with pytest.raises(InvalidInput, match=message):
        KeyPair.from_json(data)


def test_public_key_mismatch_refused():
    a, b = KeyPair.generate(), KeyPair.generate()
    with pytest.raises(InvalidInput, match="does not match"):
        KeyPair.from_json({"secretKeyMultibase": a.secret_multibase(), "publicKeyMultibase": b.public_multibase})


def test_key_file_not_json(tmp_path):
    path = tmp_path / "k.json"
    path.write_text("{")
    with pytest.raises(InvalidInput, match="not JSON"):
        KeyPair.load(path)


def test_keypair_pickles_for_worker_processes():
    import pickle

    key = KeyPair.generate(controller="did:web:x", fragment="k")
    copy = pickle.loads(pickle.dumps(key))
    assert copy.id == key.id and copy.sign(b"x") == key.sign(b"x")
