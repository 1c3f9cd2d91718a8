"""schemathesis hooks of scripts/fuzz-api.sh: the values no schema can describe.

- A page cursor is opaque: the server accepts only cursors it issued (`422` for any other). A
  list request that carries a cursor gets a well-formed time cursor instead of a generated
  string (it points past the newest report, so the page is simply the first one); with a
  text search (`q` not blank) the cursor is left out, since a search pages by its own kind of
  cursor and whether `q` makes a search depends on how the server folds its words.
- Attachments are ids of files the caller uploaded first (`POST /v1/uploads`, then the file
  itself): the fuzzer has none, so the lists of them in a body are sent empty.
- What a role may send: a citizen may not attach a document (PDF), a rule of who sends it
  that the schema cannot say (`PHANANH_FUZZ_ROLE=citizen`: a PDF becomes a photo).
- An `Idempotency-Key` sent again with another body is refused (`422`, by design): each
  generated request gets a fresh key.
- Category and unit codes are the city's configuration data (`GET /v1/categories`,
  `GET /v1/units`): a generated code the city does not have is replaced by one it has (the
  document says an unknown one is refused).
"""
import base64
import os
import random
import uuid

import schemathesis

# Rust's `char::is_whitespace` (what the server's `trim` removes).
_RUST_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"


def _b64(s: str) -> str:
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")


TIME_CURSOR = _b64("v1:4102444800000000000:zzzzzzzz")
CATEGORIES = [c for c in os.environ.get("PHANANH_FUZZ_CATEGORIES", "").split(",") if c]
UNITS = [u for u in os.environ.get("PHANANH_FUZZ_UNITS", "").split(",") if u]


@schemathesis.hook
def map_case(context, case):
    case.body = _body(case.body)
    h = case.headers
    if h is not None and hasattr(h, "keys"):
        for k in list(h.keys()):
            if k.lower() == "idempotency-key":
                h[k] = f"fuzz-{uuid.uuid4()}"
    q = case.query
    if q is None or not hasattr(q, "keys"):
        return case
    if "cursor" in q:
        text = q.get("q")
        if isinstance(text, str) and text.strip(_RUST_SPACE) != "":
            del q["cursor"]
        else:
            q["cursor"] = TIME_CURSOR
    cat = q.get("category")
    if CATEGORIES and isinstance(cat, str) and cat not in CATEGORIES:
        q["category"] = random.Random(cat).choice(CATEGORIES)
    return case


_ID_LISTS = ("attachments", "evidence", "public_attachments")


def _body(body):
    if isinstance(body, dict):
        cat = body.get("category")
        if CATEGORIES and isinstance(cat, str) and cat not in CATEGORIES:
            body["category"] = random.Random(cat).choice(CATEGORIES)
        for k in ("unit", "lead_unit"):
            u = body.get(k)
            if UNITS and isinstance(u, str) and u not in UNITS:
                body[k] = random.Random(u).choice(UNITS)
        cu = body.get("coordinating_units")
        if UNITS and isinstance(cu, list):
            body["coordinating_units"] = [u if u in UNITS else random.Random(str(u)).choice(UNITS) for u in cu]
        for k in _ID_LISTS:
            if isinstance(body.get(k), list):
                body[k] = []
        if os.environ.get("PHANANH_FUZZ_ROLE") == "citizen" and body.get("content_type") == "application/pdf":
            body["content_type"] = "image/jpeg"
            if isinstance(body.get("size"), (int, float)):
                body["size"] = min(body["size"], 15728640)
    return body


@schemathesis.hook
def map_body(context, body):
    return _body(body)
