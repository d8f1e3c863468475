"""node.key_custody, pure: sealing, associated data, master key parsing and the master key file."""

from __future__ import annotations

import json
import os

import pytest

from node.errors import ConfigurationError
from node.key_custody import (MasterKey, SealBroken, create_master_key_file, load_master_key, master_key_file,
                              sealed_under)

SEED = bytes(range(32))
WHO = {"did": "did:web:x:institutions:a", "key_id": "did:web:x:institutions:a#key-1", "public_multibase": "z6MkA"}


def test_seal_round_trips_and_hides_the_seed():
    master = MasterKey.generate("test")
    sealed = master.seal(SEED, **WHO)
    assert SEED.hex() not in sealed and master.encoded() not in sealed
    assert master.unseal(sealed, **WHO) == SEED
    assert sealed_under(sealed) == master.fingerprint
    assert master.seal(SEED, **WHO) != sealed  # fresh data key and nonces each time
    assert master.encoded() not in repr(master)


@pytest.mark.parametrize("field, value", [("did", "did:web:x:institutions:b"), ("key_id", "did:web:x:institutions:a#key-2"),
                                          ("public_multibase", "z6MkB")])
def test_a_sealed_key_opens_only_for_its_own_row(field, value):
    master = MasterKey.generate("test")
    sealed = master.seal(SEED, **WHO)
    with pytest.raises(SealBroken, match="does not open"):
        master.unseal(sealed, **{**WHO, field: value})


def test_another_master_key_and_damage_are_told_apart():
    master, other = MasterKey.generate("a"), MasterKey.generate("b")
    sealed = master.seal(SEED, **WHO)
    with pytest.raises(SealBroken, match="another master key"):
        other.unseal(sealed, **WHO)
    flipped = json.loads(sealed)
    flipped["wk"] = ("A" if flipped["wk"][0] != "A" else "B") + flipped["wk"][1:]
    for broken, message in ((json.dumps(flipped), "does not open"), ("{}", "damaged"), ("x", "damaged"),
                            (None, "no key material")):
        with pytest.raises(SealBroken, match=message):
            master.unseal(broken, **WHO)


@pytest.mark.parametrize("text", ["not base64!", "AAAA", ""])
def test_bad_master_keys_are_configuration_errors(text):
    with pytest.raises(ConfigurationError, match="master key"):
        MasterKey.parse(text, "PUENTE_MASTER_KEY")


def test_master_key_file_created_private_once_and_the_environment_wins(tmp_path):
    secrets = tmp_path / "secrets"
    assert load_master_key(None, secrets) is None
    created = create_master_key_file(secrets)
    path = master_key_file(secrets)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_master_key(None, secrets).fingerprint == created.fingerprint
    assert create_master_key_file(secrets).fingerprint == created.fingerprint  # never overwritten
    from_env = MasterKey.generate("env")
    assert load_master_key(from_env.encoded(), secrets).fingerprint == from_env.fingerprint
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        load_master_key(None, secrets)
