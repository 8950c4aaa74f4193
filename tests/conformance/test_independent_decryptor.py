"""Conformance tests: the independent decryptor against the frozen vectors.

Like ``independent_decryptor.py`` these were written from ``docs/format.md``
alone; they check the key schedule, the wrapped key, the manifest and every
file object of ``shared/crypto/tests/vectors/transfer/``, then apply every
``fail_*.json`` mutation exactly as the spec's "Test vectors" section
describes and expect the recorded error code.

Run with ``pytest tests/conformance``.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import independent_decryptor as kd

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "crypto" / "tests" / "vectors"
TRANSFER = VECTORS / "transfer"
FAIL_CASES = sorted(VECTORS.glob("fail_*.json"))


# --- fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def vector() -> dict:
    return json.loads((TRANSFER / "vector.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def transfer_id(vector) -> bytes:
    return kd.decode_id(vector["transfer_id"])


@pytest.fixture(scope="module")
def kdf_params(vector) -> kd.KdfParams:
    return kd.KdfParams(**vector["kdf"])


@pytest.fixture(scope="module")
def stretched(vector, kdf_params) -> bytes:
    """S from the password as typed (Argon2id runs once; see kd._argon2id)."""
    return kd.stretch(vector["password_typed"], bytes.fromhex(vector["salt"]), kdf_params)


@pytest.fixture(scope="module")
def content_key(vector, stretched, transfer_id) -> bytes:
    kek = kd.key_encryption_key(stretched, transfer_id)
    return kd.unwrap_content_key(bytes.fromhex(vector["wrapped_key"]), kek, transfer_id)


@pytest.fixture(scope="module")
def manifest(vector, content_key, transfer_id) -> dict:
    sealed = (TRANSFER / vector["sealed_manifest"]).read_bytes()
    return kd.open_manifest(sealed, kd.manifest_key(content_key, transfer_id), transfer_id)


def file_entries() -> list:
    files = json.loads((TRANSFER / "vector.json").read_text(encoding="utf-8"))["files"]
    return [pytest.param(f, id=f["object"]) for f in files]


# --- helpers -----------------------------------------------------------------


def recipe_chunks(seed: int, length: int):
    """The recipe plaintext, byte j = (31·j + 7 + seed) mod 251, per chunk."""
    period = bytes((31 * j + 7 + seed) % 251 for j in range(251))
    for start in range(0, length, kd.CHUNK):
        end = min(start + kd.CHUNK, length)
        offset = start % 251
        reps = (end - start + offset) // 251 + 1
        yield (period * reps)[offset : offset + end - start]


def chunk_span(index: int) -> slice:
    start = kd.FILE_HEADER_LEN + index * kd.SEALED_CHUNK
    return slice(start, start + kd.SEALED_CHUNK)


def drain(chunks) -> bytes:
    return b"".join(chunks)


# --- identifiers -------------------------------------------------------------


def test_transfer_id_decodes(transfer_id):
    assert transfer_id == bytes(range(16))


@pytest.mark.parametrize(
    "text",
    [
        "AAECAwQFBgcICQoLDA0ODw==",  # padded
        "AAECAwQFBgcICQoLDA0OD",  # 21 characters
        "AAECAwQFBgcICQoLDA0ODx",  # unused trailing bits not zero
        "AAECAwQFBgcICQoLDA0OD+",  # standard, not url-safe, alphabet
    ],
)
def test_invalid_id_text_is_rejected(text):
    with pytest.raises(kd.KluisError) as err:
        kd.decode_id(text)
    assert err.value.code == "invalid_encoding"


# --- key schedule and wrapped key --------------------------------------------


def test_password_normalizes_as_recorded(vector):
    assert kd.normalize(vector["password_typed"]) == vector["password_normalized"]


def test_stretched_key_from_typed_equals_normalized(vector, kdf_params, stretched):
    salt = bytes.fromhex(vector["salt"])
    assert len(stretched) == 32
    assert kd.stretch(vector["password_normalized"], salt, kdf_params) == stretched
    assert stretched.hex() == vector["expect"]["stretched"]


def test_key_encryption_key(vector, stretched, transfer_id):
    assert kd.key_encryption_key(stretched, transfer_id).hex() == vector["expect"]["kek"]


def test_auth_key_and_hash(vector, stretched, transfer_id):
    auth = kd.auth_key(stretched, transfer_id)
    assert auth.hex() == vector["expect"]["auth_key"]
    assert kd.auth_hash(auth).hex() == vector["expect"]["auth_hash"]


def test_wrapped_key_layout(vector):
    wrapped = bytes.fromhex(vector["wrapped_key"])
    assert len(wrapped) == kd.WRAPPED_KEY_LEN and wrapped[0] == kd.VERSION
    assert wrapped[1:13].hex() == vector["wrap_nonce"]


def test_content_key_unwraps(vector, content_key):
    assert content_key.hex() == vector["expect"]["content_key"]


def test_manifest_key(vector, content_key, transfer_id):
    assert kd.manifest_key(content_key, transfer_id).hex() == vector["expect"]["manifest_key"]


@pytest.mark.parametrize("entry", file_entries())
def test_file_key(entry, content_key, transfer_id):
    key = kd.file_key(content_key, transfer_id, kd.decode_id(entry["id"]))
    assert key.hex() == entry["file_key"]


@pytest.mark.parametrize(
    "params, code",
    [
        (kd.KdfParams(m_kib=65_535, t=3, p=1), "weak_kdf_params"),
        (kd.KdfParams(m_kib=1_048_577, t=3, p=1), "weak_kdf_params"),
        (kd.KdfParams(m_kib=65_536, t=2, p=1), "weak_kdf_params"),
        (kd.KdfParams(m_kib=65_536, t=17, p=1), "weak_kdf_params"),
        (kd.KdfParams(m_kib=65_536, t=3, p=0), "weak_kdf_params"),
        (kd.KdfParams(m_kib=65_536, t=3, p=9), "weak_kdf_params"),
    ],
)
def test_kdf_params_out_of_bounds_are_refused(params, code):
    with pytest.raises(kd.KluisError) as err:
        kd.stretch("password", bytes(16), params)
    assert err.value.code == code


def test_salt_of_wrong_length_is_refused(kdf_params):
    with pytest.raises(kd.KluisError) as err:
        kd.stretch("password", bytes(15), kdf_params)
    assert err.value.code == "salt_length"


@pytest.mark.parametrize(
    "wrapped, code",
    [
        (lambda w: w[:60], "wrapped_key_malformed"),
        (lambda w: w + b"\x00", "wrapped_key_malformed"),
        (lambda w: b"\x02" + w[1:], "unsupported_version"),
    ],
)
def test_malformed_wrapped_key(vector, stretched, transfer_id, wrapped, code):
    kek = kd.key_encryption_key(stretched, transfer_id)
    with pytest.raises(kd.KluisError) as err:
        kd.unwrap_content_key(wrapped(bytes.fromhex(vector["wrapped_key"])), kek, transfer_id)
    assert err.value.code == code


# --- manifest ----------------------------------------------------------------


def test_manifest_equals_vector(vector, manifest):
    assert manifest == vector["manifest"]


def test_manifest_header_and_padding(vector, content_key, transfer_id):
    sealed = (TRANSFER / vector["sealed_manifest"]).read_bytes()
    assert sealed[:7] == kd.MAGIC + bytes([kd.VERSION, kd.KIND_MANIFEST])
    assert sealed[7:19].hex() == vector["manifest_nonce"]
    key = kd.manifest_key(content_key, transfer_id)
    padded = AESGCM(key).decrypt(sealed[7:19], sealed[19:], sealed[:19] + transfer_id)
    text = padded.rstrip(b" ")
    assert len(padded) % 256 == 0 and len(padded) >= 256
    assert len(padded) - len(text) < 256


def test_manifest_lists_the_vector_files(vector, manifest):
    assert [f["id"] for f in manifest["files"]] == [f["id"] for f in vector["files"]]


def seal_manifest(plaintext: bytes, key: bytes, transfer_id: bytes) -> bytes:
    """Test helper only: seal a hand-made manifest to probe the rules."""
    header = kd.MAGIC + bytes([kd.VERSION, kd.KIND_MANIFEST]) + bytes(12)
    return header + AESGCM(key).encrypt(bytes(12), plaintext, header + transfer_id)


GOOD_FILE = {
    "id": "oKCgoKCgoKCgoKCgoKCgoA",
    "name": "a.txt",
    "size": 1,
    "type": "text/plain",
    "sha256": "00" * 32,
}


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"message": "", "files": [], "extra": 1}, id="unknown-member"),
        pytest.param({"files": []}, id="missing-message"),
        pytest.param({"message": "", "files": [GOOD_FILE, GOOD_FILE]}, id="duplicate-id"),
        pytest.param({"message": "", "files": [{**GOOD_FILE, "name": ".."}]}, id="dotdot"),
        pytest.param({"message": "", "files": [{**GOOD_FILE, "name": "a/b"}]}, id="slash"),
        pytest.param({"message": "", "files": [{**GOOD_FILE, "name": ""}]}, id="empty-name"),
        pytest.param({"message": "", "files": [{**GOOD_FILE, "name": "a\nb"}]}, id="control"),
        pytest.param({"message": "", "files": [{**GOOD_FILE, "size": -1}]}, id="negative-size"),
        pytest.param({"message": "", "files": [{**GOOD_FILE, "sha256": "AB" * 32}]}, id="upper-hex"),
        pytest.param({"message": "", "files": [{**GOOD_FILE, "id": "short"}]}, id="bad-id"),
    ],
)
def test_manifest_rules(document, content_key, transfer_id):
    key = kd.manifest_key(content_key, transfer_id)
    plaintext = json.dumps(document).encode().ljust(256, b" ")
    with pytest.raises(kd.KluisError) as err:
        kd.open_manifest(seal_manifest(plaintext, key, transfer_id), key, transfer_id)
    assert err.value.code == "manifest_malformed"


def test_hand_made_manifest_opens(content_key, transfer_id):
    key = kd.manifest_key(content_key, transfer_id)
    plaintext = json.dumps({"message": "", "files": [GOOD_FILE]}).encode().ljust(256, b" ")
    sealed = seal_manifest(plaintext, key, transfer_id)
    assert kd.open_manifest(sealed, key, transfer_id)["files"] == [GOOD_FILE]


def test_oversized_manifest_is_refused(content_key, transfer_id):
    key = kd.manifest_key(content_key, transfer_id)
    sealed = seal_manifest(b" " * (kd.MAX_MANIFEST + 256), key, transfer_id)
    with pytest.raises(kd.KluisError) as err:
        kd.open_manifest(sealed, key, transfer_id)
    assert err.value.code == "manifest_too_large"


# --- file objects ------------------------------------------------------------


@pytest.mark.parametrize("entry", file_entries())
def test_object_size_and_digest(entry):
    data = (TRANSFER / entry["object"]).read_bytes()
    n = entry["plaintext"]["len"]
    assert len(data) == entry["object_len"] == kd.ciphertext_len(n)
    assert kd.plaintext_len(len(data)) == n
    assert hashlib.sha256(data).hexdigest() == entry["object_sha256"]
    assert data[7:14].hex() == entry["nonce_prefix"]


@pytest.mark.parametrize("entry", file_entries())
def test_file_decrypts_by_streaming(entry, manifest, content_key, transfer_id):
    file_id = kd.decode_id(entry["id"])
    key = kd.file_key(content_key, transfer_id, file_id)
    recipe = recipe_chunks(entry["plaintext"]["seed"], entry["plaintext"]["len"])
    digest, size = hashlib.sha256(), 0
    with open(TRANSFER / entry["object"], "rb") as stream:
        for index, plaintext in enumerate(kd.decrypt_file(stream, key, transfer_id, file_id)):
            assert plaintext == next(recipe, b""), f"chunk {index}"
            digest.update(plaintext)
            size += len(plaintext)
    assert next(recipe, None) is None
    listed = next(f for f in manifest["files"] if f["id"] == entry["id"])
    assert (size, digest.hexdigest()) == (listed["size"], listed["sha256"])


@pytest.mark.parametrize(
    "n, chunks, size",
    [
        (0, 1, 30),
        (1, 1, 31),
        (kd.CHUNK - 1, 1, kd.CHUNK + 29),
        (kd.CHUNK, 1, kd.CHUNK + 30),
        (kd.CHUNK + 1, 2, kd.CHUNK + 47),
    ],
)
def test_size_table(n, chunks, size):
    assert kd.chunk_count(n) == chunks
    assert kd.ciphertext_len(n) == size
    assert kd.plaintext_len(size) == n


def test_size_inverse_round_trips():
    edges = [0, 1, 2, 1000, kd.CHUNK - 1, kd.CHUNK, kd.CHUNK + 1, 2 * kd.CHUNK, 2 * kd.CHUNK + 5]
    for n in edges + [k * kd.CHUNK + d for k in range(1, 5) for d in (-1, 0, 1)]:
        assert kd.plaintext_len(kd.ciphertext_len(n)) == n


@pytest.mark.parametrize(
    "size",
    [0, 13, 14, 29, 14 + kd.SEALED_CHUNK + 1, 14 + kd.SEALED_CHUNK + 16],
)
def test_sizes_no_plaintext_has(size):
    assert kd.plaintext_len(size) is None


def test_header_only_object_is_too_short(content_key, transfer_id):
    data = (TRANSFER / "file-0.kluis").read_bytes()[: kd.FILE_HEADER_LEN]
    with pytest.raises(kd.KluisError) as err:
        drain(kd.decrypt_file(io.BytesIO(data), bytes(32), transfer_id, bytes(16)))
    assert err.value.code == "too_short"


# --- failure vectors ----------------------------------------------------------


def apply_mutation(data: bytes, mutation: dict) -> bytes:
    """Apply one mutation from a fail_*.json, as the spec's "Test vectors" says."""
    out = bytearray(data)
    for name, arg in mutation.items():
        if name == "flip":
            out[arg] ^= 0x01
        elif name == "truncate":
            del out[arg:]
        elif name == "append":
            out += bytes.fromhex(arg)
        elif name == "drop_chunk":
            del out[chunk_span(arg)]
        elif name == "duplicate_chunk":
            span = chunk_span(arg)
            out[span.stop : span.stop] = out[span]
        elif name == "swap_chunks":
            a, b = sorted(arg)
            first, second = bytes(out[chunk_span(a)]), bytes(out[chunk_span(b)])
            out[chunk_span(b)] = first
            out[chunk_span(a)] = second
        elif name == "replace_chunk":
            donor = (TRANSFER / arg["from"]).read_bytes()
            out[chunk_span(arg["index"])] = donor[chunk_span(arg["from_index"])]
        else:
            raise AssertionError(f"unknown mutation {name}")
    return bytes(out)


def run_fail_case(case: dict, vector: dict, content_key: bytes) -> None:
    """Open the mutated target with the overrides; must raise KluisError."""
    transfer_id = kd.decode_id(case.get("transfer_id", vector["transfer_id"]))
    if case["target"] == "wrapped_key":
        wrapped = apply_mutation(bytes.fromhex(vector["wrapped_key"]), case["mutation"])
        password = case.get("password", vector["password_typed"])
        s = kd.stretch(password, bytes.fromhex(vector["salt"]), kd.KdfParams(**vector["kdf"]))
        kd.unwrap_content_key(wrapped, kd.key_encryption_key(s, transfer_id), transfer_id)
        return
    data = apply_mutation((TRANSFER / case["target"]).read_bytes(), case["mutation"])
    if case["target"] == vector["sealed_manifest"] or case.get("open_as") == "manifest":
        kd.open_manifest(data, kd.manifest_key(content_key, transfer_id), transfer_id)
        return
    entry = next(f for f in vector["files"] if f["object"] == case["target"])
    file_id = kd.decode_id(case.get("file_id", entry["id"]))
    key = kd.file_key(content_key, transfer_id, file_id)
    drain(kd.decrypt_file(io.BytesIO(data), key, transfer_id, file_id))


def test_every_fail_case_is_collected():
    assert len(FAIL_CASES) == 23


@pytest.mark.parametrize("path", FAIL_CASES, ids=lambda p: p.stem)
def test_fail_vector(path, vector, content_key):
    case = json.loads(path.read_text(encoding="utf-8"))
    assert case["base"] == "transfer"
    with pytest.raises(kd.KluisError) as err:
        run_fail_case(case, vector, content_key)
    assert err.value.code == case["error"]
    if "index" in case:
        assert err.value.index == case["index"]


# --- passwords ---------------------------------------------------------------

NORMALIZED = "k7m-x2p-abc-def-ghj-kmn-pqr"


@pytest.mark.parametrize(
    "typed",
    [
        "K7M X2P ABC DEF GHJ KMN PQR",
        "k7m-x2p-abc-def-ghj-kmn-pqr",
        "k7mx2pabcdefghjkmnpqr",
        "K7MX2PABCDEFGHJKMNPQR",
        "  k7m x2p-ABC def GHJ-kmn pqr  ",
        "\tk7m-x2p-abc-def-ghj-kmn-pqr\n",
        "\u00a0k7m-x2p-abc-def-ghj-kmn-pqr\u3000",
        "k7mx-2pab-cdef ghjk-mnpqr",
        "- k7m--x2p abc def ghj kmn pqr -",
    ],
)
def test_dictated_variants_normalize(typed):
    assert kd.normalize(typed) == NORMALIZED


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Correct Horse Battery", "Correct Horse Battery"),  # not generator-like
        ("  Geheim-Wachtwoord \n", "Geheim-Wachtwoord"),  # only trimmed
        ("k7m-x2p-abc-def-ghj-kmn-pq", "k7m-x2p-abc-def-ghj-kmn-pq"),  # 20 symbols
        ("k7m-x2p-abc-def-ghj-kmn-pql", "k7m-x2p-abc-def-ghj-kmn-pql"),  # 'l' not in alphabet
        ("K7M X2P ABC DEF GHJ KMN PQ0", "K7M X2P ABC DEF GHJ KMN PQ0"),  # '0' not in alphabet
        ("k7m\tx2p abc def ghj kmn pqr", "k7m\tx2p abc def ghj kmn pqr"),  # tab not removed
        ("\u212a7m x2p abc def ghj kmn pqr", "\u212a7m x2p abc def ghj kmn pqr"),  # KELVIN SIGN
        ("\x1fk7m-x2p-abc-def-ghj-kmn-pqr", "\x1fk7m-x2p-abc-def-ghj-kmn-pqr"),  # not White_Space
        ("Wachtwoord\u00e9", "Wachtwoord\u00e9"),  # no Unicode normalization
    ],
)
def test_other_passwords_are_kept(typed, expected):
    assert kd.normalize(typed) == expected


def test_generator_alphabet():
    assert len(kd.ALPHABET) == 31 and not set("0o1li") & set(kd.ALPHABET)


def test_generated_password_rejection_sampling():
    stream = iter([248, 255, 0, 30, 31, 247] + list(range(21)))
    password = kd.generate_password(lambda n: bytes([next(stream)]))
    symbols = password.replace("-", "")
    assert symbols[:4] == "2z2z"  # 248 and 255 rejected; 0, 30, 31, 247 mod 31
    assert symbols[4:] == kd.ALPHABET[:17]
    assert kd.normalize(password) == password


def test_generated_password_shape():
    password = kd.generate_password()
    groups = password.split("-")
    assert len(groups) == 7 and all(len(g) == 3 for g in groups)
    assert kd.normalize(password.upper().replace("-", " ")) == password
