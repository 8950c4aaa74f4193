"""Independent decryptor for the kluis encryption format, version 1.

Written from ``docs/format.md`` alone (plus the known-answer vectors in
``shared/crypto/tests/vectors/``), without reading the Rust reference crate,
to prove that the document is enough to interoperate. It covers the reading
side of the format: password normalization (and the generator's alphabet),
the key schedule, unwrapping the content key, opening the sealed manifest and
streaming the STREAM-sealed file objects chunk by chunk.

Only well-kept libraries are used: ``cryptography`` (AES-256-GCM, HKDF-SHA256)
and ``argon2-cffi`` (Argon2id, version 0x13).

Every failure raises :class:`KluisError` carrying the stable error code from
the "Errors" section of the spec (and the chunk index where one applies).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, Optional

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# --- constants (spec: "File object", "Manifest", "Wrapped key") -------------

CHUNK = 1 << 18  # C, plaintext bytes per chunk (256 KiB)
TAG = 16  # AES-GCM tag length
SEALED_CHUNK = CHUNK + TAG  # a full sealed chunk
MAGIC = b"kluis"
VERSION = 0x01
KIND_FILE = 0x46  # 'F'
KIND_MANIFEST = 0x4D  # 'M'
FILE_HEADER_LEN = 14  # magic 5 + version 1 + kind 1 + nonce prefix 7
MANIFEST_HEADER_LEN = 19  # magic 5 + version 1 + kind 1 + nonce 12
MAX_CHUNKS = 2**32 - 1  # indices 0 .. 2**32 - 2
MAX_PLAINTEXT = MAX_CHUNKS * CHUNK
MAX_MANIFEST = 128 * 1024  # padded manifest plaintext
MAX_MANIFEST_FILES = 100
WRAPPED_KEY_LEN = 61
ID_LEN = 16

LABEL_FILE_KEY = b"kluis v1 file key"
LABEL_MANIFEST_KEY = b"kluis v1 manifest key"
LABEL_KEK = b"kluis v1 key encryption key"
LABEL_AUTH = b"kluis v1 auth key"
LABEL_WRAPPED_KEY = b"kluis v1 wrapped key"


class KluisError(Exception):
    """A decryption failure with the spec's stable error code."""

    def __init__(self, code: str, index: Optional[int] = None):
        self.code = code
        self.index = index
        super().__init__(code if index is None else f"{code} at chunk {index}")


# --- identifiers (spec: "Identifiers") --------------------------------------

_B64URL_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def decode_id(text: str) -> bytes:
    """Decode a 22-character unpadded base64url id into its 16 bytes.

    Rejects other lengths, other alphabets and non-zero unused trailing bits
    (checked by re-encoding: a canonical text form round-trips exactly).
    """
    if not isinstance(text, str) or not _B64URL_ID.fullmatch(text):
        raise KluisError("invalid_encoding")
    raw = base64.urlsafe_b64decode(text + "==")
    if len(raw) != ID_LEN or encode_id(raw) != text:
        raise KluisError("invalid_encoding")
    return raw


def encode_id(raw: bytes) -> str:
    """The unpadded base64url text form of a 16-byte id."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# --- passwords (spec: "Password normalization", "Generated passwords") ------

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
GENERATED_SYMBOLS = 21
GROUP = 3

# Unicode property White_Space (PropList.txt). Python's str.strip()/isspace()
# is a different set (it includes U+001C..U+001F), so the set is spelled out.
WHITE_SPACE = frozenset(
    [chr(c) for c in range(0x09, 0x0E)]
    + ["\u0020", "\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)


def _ascii_lower(text: str) -> str:
    """Lower-case A-Z only (str.lower() would map e.g. KELVIN SIGN to 'k')."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _group(symbols: str) -> str:
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))


def normalize(password: str) -> str:
    """normalize(password) from the spec, steps 1 to 3."""
    trimmed = password.strip("".join(WHITE_SPACE))
    compact = _ascii_lower(trimmed.replace(" ", "").replace("-", ""))
    if len(compact) == GENERATED_SYMBOLS and all(c in ALPHABET for c in compact):
        return _group(compact)
    return trimmed


def generate_password(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A generated password: 21 uniform symbols by rejection sampling."""
    limit = 256 - 256 % len(ALPHABET)  # 248
    symbols = []
    while len(symbols) < GENERATED_SYMBOLS:
        byte = random_bytes(1)[0]
        if byte < limit:
            symbols.append(ALPHABET[byte % len(ALPHABET)])
    return _group("".join(symbols))


# --- key schedule (spec: "Keys and key schedule") ---------------------------


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters stored beside the wrapped key."""

    m_kib: int
    t: int
    p: int

    def check(self) -> None:
        """A client refuses to derive outside the format's bounds."""
        if not (
            65_536 <= self.m_kib <= 1_048_576 and 3 <= self.t <= 16 and 1 <= self.p <= 8
        ):
            raise KluisError("weak_kdf_params")


def stretch(password: str, salt: bytes, params: KdfParams) -> bytes:
    """S = Argon2id(normalize(password), salt, m, t, p)."""
    if len(salt) != 16:
        raise KluisError("salt_length")
    params.check()
    return _argon2id(normalize(password).encode("utf-8"), salt, params)


@functools.lru_cache(maxsize=16)
def _argon2id(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.t,
        memory_cost=params.m_kib,
        parallelism=params.p,
        hash_len=32,
        type=Type.ID,
        version=19,
    )


def hkdf(ikm: bytes, transfer_id: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 with the raw transfer id as salt, 32-byte output."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=transfer_id, info=info).derive(
        ikm
    )


def key_encryption_key(s: bytes, transfer_id: bytes) -> bytes:
    return hkdf(s, transfer_id, LABEL_KEK)


def auth_key(s: bytes, transfer_id: bytes) -> bytes:
    return hkdf(s, transfer_id, LABEL_AUTH)


def auth_hash(auth: bytes) -> bytes:
    return hashlib.sha256(auth).digest()


def file_key(content_key: bytes, transfer_id: bytes, file_id: bytes) -> bytes:
    return hkdf(content_key, transfer_id, LABEL_FILE_KEY + file_id)


def manifest_key(content_key: bytes, transfer_id: bytes) -> bytes:
    return hkdf(content_key, transfer_id, LABEL_MANIFEST_KEY)


# --- wrapped key (spec: "Wrapped key") --------------------------------------


def unwrap_content_key(wrapped: bytes, kek: bytes, transfer_id: bytes) -> bytes:
    """Open the 61-byte envelope and return the content key K."""
    if len(wrapped) != WRAPPED_KEY_LEN:
        raise KluisError("wrapped_key_malformed")
    if wrapped[0] != VERSION:
        raise KluisError("unsupported_version")
    nonce, sealed = wrapped[1:13], wrapped[13:]
    try:
        return AESGCM(kek).decrypt(nonce, sealed, LABEL_WRAPPED_KEY + transfer_id)
    except InvalidTag:
        raise KluisError("wrong_password") from None


# --- sizes (spec: "Sizes") --------------------------------------------------


def chunk_count(n: int) -> int:
    """chunks(n) = max(1, ceil(n / C))."""
    return max(1, -(-n // CHUNK))


def ciphertext_len(n: int) -> int:
    """Object size of an n-byte plaintext."""
    return FILE_HEADER_LEN + n + TAG * chunk_count(n)


def plaintext_len(size: int) -> Optional[int]:
    """The inverse of ciphertext_len, or None for a size no plaintext has."""
    b = size - FILE_HEADER_LEN
    if b < 0:
        return None
    f, r = divmod(b, SEALED_CHUNK)
    if r == 0 and f >= 1:
        return f * CHUNK
    if r == TAG and f == 0:
        return 0
    if r > TAG:
        return f * CHUNK + r - TAG
    return None


# --- object headers ----------------------------------------------------------


def _check_header(header: bytes, length: int, kind: int) -> None:
    """Length, magic, version and kind, in the spec's order."""
    if len(header) < length:
        raise KluisError("too_short")
    if header[:5] != MAGIC:
        raise KluisError("not_kluis")
    if header[5] != VERSION:
        raise KluisError("unsupported_version")
    if header[6] != kind:
        raise KluisError("wrong_object_kind")


# --- file objects (spec: "File object", "Decrypting") -----------------------


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    """Read n bytes, or fewer only at the end of the stream."""
    parts, missing = [], n
    while missing:
        part = stream.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def chunk_nonce(prefix: bytes, index: int, last: bool) -> bytes:
    """nonce_i = P ‖ BE32(i) ‖ last_i."""
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _check_chunk_size(index: int, sealed: bytes, last: bool) -> None:
    if index >= MAX_CHUNKS:
        raise KluisError("file_too_large")
    if len(sealed) < TAG:
        raise KluisError("too_short")
    if not last and len(sealed) != SEALED_CHUNK:
        raise KluisError("chunk_size")
    if last and index > 0 and len(sealed) == TAG:
        raise KluisError("chunk_size")


def _open_chunk(
    aead: AESGCM, prefix: bytes, index: int, sealed: bytes, last: bool, aad: bytes
) -> bytes:
    """Open one chunk; on failure tell truncation and trailing data apart."""
    try:
        return aead.decrypt(chunk_nonce(prefix, index, last), sealed, aad)
    except InvalidTag:
        pass
    try:
        aead.decrypt(chunk_nonce(prefix, index, not last), sealed, aad)
    except InvalidTag:
        raise KluisError("chunk_authentication", index) from None
    # Sealed with the other flag: as not-last means the stream was cut after
    # it; as last means something follows the final chunk.
    raise KluisError("truncated" if last else "trailing_data")


def decrypt_file(
    stream: BinaryIO, key: bytes, transfer_id: bytes, file_id: bytes
) -> Iterator[bytes]:
    """Yield the plaintext of a file object chunk by chunk.

    Holds at most two sealed chunks: the current one and one read ahead to
    know whether the current one is the last. The caller must not trust the
    output until the generator finishes without raising.
    """
    header = _read_exact(stream, FILE_HEADER_LEN)
    _check_header(header, FILE_HEADER_LEN, KIND_FILE)
    prefix = header[7:14]
    aad = header + transfer_id + file_id
    aead = AESGCM(key)
    index, sealed = 0, _read_exact(stream, SEALED_CHUNK)
    while True:
        ahead = _read_exact(stream, SEALED_CHUNK)
        last = not ahead
        _check_chunk_size(index, sealed, last)
        yield _open_chunk(aead, prefix, index, sealed, last, aad)
        if last:
            return
        index, sealed = index + 1, ahead


# --- manifest (spec: "Manifest") --------------------------------------------


def open_manifest(sealed: bytes, key: bytes, transfer_id: bytes) -> dict:
    """Open, parse and validate a sealed manifest."""
    _check_header(sealed, MANIFEST_HEADER_LEN, KIND_MANIFEST)
    body = sealed[MANIFEST_HEADER_LEN:]
    if len(body) < TAG:
        raise KluisError("too_short")
    if len(body) - TAG > MAX_MANIFEST:
        raise KluisError("manifest_too_large")
    header = sealed[:MANIFEST_HEADER_LEN]
    try:
        padded = AESGCM(key).decrypt(header[7:19], body, header + transfer_id)
    except InvalidTag:
        raise KluisError("manifest_authentication") from None
    manifest = parse_manifest(padded)
    validate_manifest(manifest)
    return manifest


def _no_duplicate_members(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate member")
    return dict(pairs)


def parse_manifest(padded: bytes) -> dict:
    """Parse the space-padded UTF-8 JSON directly."""
    try:
        text = padded.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicate_members)
    except ValueError:  # includes UnicodeDecodeError and JSONDecodeError
        raise KluisError("manifest_malformed") from None


def _require(condition: bool) -> None:
    if not condition:
        raise KluisError("manifest_malformed")


def _utf8_len(text: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogate from a \ud800 escape
        raise KluisError("manifest_malformed") from None


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_manifest(manifest) -> None:
    """The manifest rules: exact members, file count, ids, names, types, sizes."""
    _require(isinstance(manifest, dict) and set(manifest) == {"message", "files"})
    _require(isinstance(manifest["message"], str))
    _utf8_len(manifest["message"])
    files = manifest["files"]
    _require(isinstance(files, list) and len(files) <= MAX_MANIFEST_FILES)
    ids = set()
    for entry in files:
        _validate_manifest_file(entry)
        _require(entry["id"] not in ids)
        ids.add(entry["id"])


def _validate_manifest_file(entry) -> None:
    _require(
        isinstance(entry, dict) and set(entry) == {"id", "name", "size", "type", "sha256"}
    )
    try:
        decode_id(entry["id"])
    except KluisError:
        raise KluisError("manifest_malformed") from None
    name, kind = entry["name"], entry["type"]
    _require(isinstance(name, str) and 1 <= _utf8_len(name) <= 255)
    _require(name not in (".", "..") and "/" not in name and "\\" not in name)
    _require(not _has_control(name))
    _require(isinstance(kind, str) and _utf8_len(kind) <= 255 and not _has_control(kind))
    _require(_is_int(entry["size"]) and 0 <= entry["size"] <= MAX_PLAINTEXT)
    _require(isinstance(entry["sha256"], str))
    _require(re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]) is not None)
