"""Seeds a running kluis runner with real credentials for schemathesis.

Walks the API the way a client does, over plain HTTP: asks a code, reads it
from the dev mailbox, verifies (bearer), drafts a transfer to a partner,
uploads one file object, keys it and sends it; then reads the retrieval and
manage links from the mails. The server never checks the cryptography (it
holds no key), so random bytes of the right lengths stand in for the
wrapped key, manifest and object.

Prints shell assignments: KLUIS_SESSION, KLUIS_TRANSFER (sent),
KLUIS_RETRIEVAL, KLUIS_MANAGE, KLUIS_AUTH_KEY, KLUIS_DRAFT with KLUIS_FILE
and KLUIS_DROP_FILE (a draft with two declared files: one for the upload
routes, one for the removal to remove), and KLUIS_SPARE_SESSION: a second
session of the same sender for endSession, which ends the session it
carries (with KLUIS_SESSION it would end the session every other operation
uses).
"""

import base64
import hashlib
import json
import os
import re
import sys
import urllib.request

SENDER = "schemathesis@example.nl"
PARTNER = "partner@example.org"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def call(base, method, path, body=None, token=None, headers=None, raw=None):
    url = path if path.startswith("http") else base + path
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    for name, value in headers or []:
        request.add_header(name, value)
    with urllib.request.urlopen(request) as answer:
        text = answer.read()
        return answer.status, dict(answer.headers), (json.loads(text) if text else None)


def newest_mail(base, to, needle):
    _, _, mails = call(base, "GET", "/dev/mail.json")
    for mail in mails:
        if to in mail["to"] and needle in mail["text"]:
            return mail["text"]
    sys.exit(f"seed: no mail to {to} containing {needle!r}")


def link(base, to, page):
    text = newest_mail(base, to, f"/{page}/")
    found = re.search(rf"/{page}/([A-Za-z0-9_-]{{22}})#([A-Za-z0-9_-]{{43}})", text)
    if not found:
        sys.exit(f"seed: no {page} link in the mail to {to}")
    return found.group(1), found.group(2)


def sign_in(base):
    """A bearer session of SENDER: a code asked, read from the mailbox, typed back."""
    _, _, requested = call(base, "POST", "/api/sender/code", {
        "request_id": b64(os.urandom(16)), "name": "Schemathesis Seed", "email": SENDER, "language": "en",
    })
    code = re.search(r"\b(\d{6})\b", newest_mail(base, SENDER, "")).group(1)
    _, _, opened = call(base, "POST", "/api/sender/verify", {
        "challenge_id": requested["challenge_id"], "code": code, "bearer": True,
    })
    return opened["session_token"]


def main(base):
    session = sign_in(base)
    spare = sign_in(base)
    _, _, draft = call(base, "POST", "/api/transfers", {
        "request_id": b64(os.urandom(16)), "recipients": [PARTNER], "language": "en",
    }, token=session)
    transfer = draft["transfer_id"]
    # 10 plaintext bytes: a 14-byte header, one chunk of 10 + 16-byte tag.
    size = 14 + 10 + 16
    file_id = b64(os.urandom(16))
    _, _, upload = call(base, "POST", f"/api/transfers/{transfer}/files",
                        {"file_id": file_id, "ciphertext_bytes": size}, token=session)
    part = upload["parts"][0]
    _, headers, _ = call(base, "PUT", part["url"], raw=os.urandom(size),
                         headers=[(n, v) for n, v in part["headers"]])
    etag = headers.get("ETag") or headers.get("etag")
    call(base, "POST", f"/api/transfers/{transfer}/files/{file_id}/complete",
         {"parts": [{"number": 1, "etag": etag}]}, token=session)
    auth_key = os.urandom(32)
    call(base, "PUT", f"/api/transfers/{transfer}/key", {
        "wrapped_key": b64(os.urandom(61)),
        "salt": b64(os.urandom(16)),
        "kdf": {"m_kib": 65536, "t": 3, "p": 1},
        "auth_hash": b64(hashlib.sha256(auth_key).digest()),
        "manifest": b64(os.urandom(512)),
    }, token=session)
    call(base, "POST", f"/api/transfers/{transfer}/send", token=session)
    # A second transfer left as a draft with two declared files, for the
    # wizard's routes.
    _, _, draft = call(base, "POST", "/api/transfers", {
        "request_id": b64(os.urandom(16)), "recipients": [PARTNER], "language": "en",
    }, token=session)
    draft_file = b64(os.urandom(16))
    drop_file = b64(os.urandom(16))
    for declared in (draft_file, drop_file):
        call(base, "POST", f"/api/transfers/{draft['transfer_id']}/files",
             {"file_id": declared, "ciphertext_bytes": size}, token=session)
    _, retrieval = link(base, PARTNER, "retrieve")
    _, manage = link(base, SENDER, "manage")
    for name, value in [("KLUIS_SESSION", session), ("KLUIS_TRANSFER", transfer),
                        ("KLUIS_RETRIEVAL", retrieval), ("KLUIS_MANAGE", manage),
                        ("KLUIS_AUTH_KEY", b64(auth_key)),
                        ("KLUIS_DRAFT", draft["transfer_id"]), ("KLUIS_FILE", draft_file),
                        ("KLUIS_DROP_FILE", drop_file), ("KLUIS_SPARE_SESSION", spare)]:
        print(f"{name}={value}")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
