#!/usr/bin/env python3
"""Checks an Assent ledger bundle, and receipts with their proofs, offline.

Independent of Assent's own code: Python's standard library and the `cryptography` package
(Ed25519) only. Written from the formats documented in README ("Proving consent"):

  verify_bundle.py BUNDLE_DIR [--receipt FILE.jwt ...] [--proof FILE.json ...]
                   [--trust-key BASE64 ...]

A bundle is what `assent ledger export --out DIR` writes. The checks, in order:

 1. manifest.json: the format is known, and each file's SHA-256 matches it;
 2. events.jsonl: seq runs 1, 2, 3... without a gap, each prev_hash is the hash before it
    (the first is 64 zeros);
 3. the RFC 6962 Merkle tree over the events' chain hashes: every signed head in heads.jsonl
    is signed (Ed25519) by a tree-head key of keys.json (or one given with --trust-key, which
    then are the only keys trusted), covers no more events than the bundle holds, and its root
    is the root of that many events; each head extends the one before it;
 4. witness.jsonl: every head the witness kept is in heads.jsonl unchanged (a restore record
    says which heads a restore set aside: those are then checked to be signed, and no more);
 5. each --receipt: a JWS signed (EdDSA) by the JWKS key its `kid` names, in the receipt
    format assent-receipt/2, whose every event is in the bundle with the same hash, purpose,
    action and policy version at leaf seq - 1;
 6. each --proof (GET /api/v1/receipts/{id}/proof or /.well-known/assent/proof-by-hash): its
    head is signed by a trusted key, and every audit path leads from its leaf to that root.

Exits 0 and prints what was checked, or exits 1 printing the first problem found.
"""

import argparse
import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

BUNDLE_FORMAT = "assent-ledger-bundle/1"
RECEIPT_VERSION = "assent-receipt/2"
GENESIS = "0" * 64


class Problem(Exception):
    """The first thing found wrong."""


def sha256(data):
    return hashlib.sha256(data).digest()


def b64(text):
    return base64.b64decode(text + "=" * (-len(text) % 4))


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# RFC 6962 / RFC 9162 section 2.1: leaf hash 0x00 || leaf, node hash 0x01 || left || right.
def leaf_hash(leaf):
    return sha256(b"\x00" + leaf)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def merkle_root(leaf_hashes):
    """MTH of a list of leaf hashes (already 0x00-hashed)."""
    n = len(leaf_hashes)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(merkle_root(leaf_hashes[:k]), merkle_root(leaf_hashes[k:]))


def roots_at(leaves, sizes):
    """The root of the first `size` leaves for each size: one pass with a stack of subtrees."""
    wanted = sorted(set(s for s in sizes if s <= len(leaves)))
    roots, stack, done = {}, [], 0
    for size in wanted:
        while done < size:
            node, height = leaf_hash(leaves[done]), 0
            done += 1
            while stack and stack[-1][1] == height:
                node, height = node_hash(stack.pop()[0], node), height + 1
            stack.append((node, height))
        if not stack:
            roots[size] = sha256(b"")
            continue
        node = stack[-1][0]
        for left, _ in reversed(stack[:-1]):
            node = node_hash(left, node)
        roots[size] = node
    return roots


def verify_inclusion(root, size, index, leaf, path):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash(leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def head_message(head):
    """The bytes a tree head's signature covers: v2 heads also commit to the access records
    (their count and chain head hash), v1 heads (signed before those existed) do not."""
    access = head.get("access")
    if access is None:
        return ("assent-tree-head/v1\n%d\n%s\n%s\n" % (head["size"], head["root"], time_of(head["signed_at"]))).encode()
    return ("assent-tree-head/v2\n%d\n%s\n%d\n%s\n%s\n"
            % (head["size"], head["root"], access["size"], access["hash"], time_of(head["signed_at"]))).encode()


def order_key(head):
    """Heads are told apart by the ledger's size and the access records' size."""
    return (head["size"], (head.get("access") or {}).get("size", 0))


def time_of(signed_at):
    """`signed_at` as the message writes it: RFC 3339 UTC with six fractional digits."""
    text = signed_at.rstrip("Z")
    if "." in text:
        whole, frac = text.split(".", 1)
    else:
        whole, frac = text, ""
    return "%s.%sZ" % (whole, (frac + "000000")[:6])


def signed_by(public_key_b64, message, signature_b64):
    try:
        Ed25519PublicKey.from_public_bytes(b64(public_key_b64)).verify(b64(signature_b64), message)
        return True
    except (InvalidSignature, ValueError):
        return False


def head_is_signed(head, tree_keys):
    key = tree_keys.get(head.get("key_id"))
    return key is not None and signed_by(key, head_message(head), head.get("signature", ""))


def check_manifest(bundle):
    manifest = json.load(open(os.path.join(bundle, "manifest.json"), encoding="utf-8"))
    if manifest.get("format") != BUNDLE_FORMAT:
        raise Problem("manifest.json: unknown format %r (expected %s)" % (manifest.get("format"), BUNDLE_FORMAT))
    for name, digest in manifest.get("files", {}).items():
        path = os.path.join(bundle, name)
        if not os.path.exists(path):
            raise Problem("%s: listed in the manifest but missing" % name)
        if hashlib.sha256(open(path, "rb").read()).hexdigest() != digest:
            raise Problem("%s: its SHA-256 differs from the manifest's (the file was changed)" % name)
    return manifest


def check_events(events):
    previous = GENESIS
    for expected, event in enumerate(events, start=1):
        if event.get("seq") != expected:
            raise Problem("events.jsonl: event #%s where #%d was expected (an event was removed or reordered)" % (event.get("seq"), expected))
        if event.get("prev_hash") != previous:
            raise Problem("events.jsonl: event #%d does not link to the event before it" % expected)
        previous = event.get("hash", "")
        if len(previous) != 64:
            raise Problem("events.jsonl: event #%d has no 32-byte hash" % expected)
    return [bytes.fromhex(e["hash"]) for e in events]


def check_heads(heads, witnessed, leaves, tree_keys):
    by_key = {}
    for head in heads:
        by_key[order_key(head)] = head
    restored_from = [r for r in witnessed if r.get("kind") == "restore"]
    set_aside = set()
    for record in restored_from:
        set_aside.update(record.get("discarded_sizes", []))
    for head in (w for w in witnessed if w.get("kind", "head") == "head"):
        stored = by_key.get(order_key(head))
        if head["size"] in set_aside:
            if not head_is_signed(head, tree_keys):
                raise Problem("witness.jsonl: the head of size %d it kept is not signed by a trusted key" % head["size"])
            continue
        if stored is None or any(stored.get(k) != head.get(k) for k in ("root", "signature", "key_id", "size", "access")):
            raise Problem("witness.jsonl: the witness saw a head of size %d that heads.jsonl does not hold as signed" % head["size"])
    roots = roots_at(leaves, [size for size, _ in by_key])
    for key in sorted(by_key):
        head, size = by_key[key], key[0]
        if not head_is_signed(head, tree_keys):
            raise Problem("heads.jsonl: the head of size %d is not signed by a trusted key (replaced or forged)" % size)
        if size > len(leaves):
            raise Problem("heads.jsonl: the head of size %d covers more events than the bundle's %d (events were removed)" % (size, len(leaves)))
        if roots[size].hex() != head["root"]:
            raise Problem("heads.jsonl: the head of size %d has another root than the bundle's first %d events (history was rewritten)" % (size, size))
    return len(by_key)


def check_receipt(token, events, jwks):
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise Problem("receipt: not a compact JWS")
    header, claims = json.loads(b64url(parts[0])), json.loads(b64url(parts[1]))
    if header.get("alg") != "EdDSA":
        raise Problem("receipt: alg %r is not EdDSA" % header.get("alg"))
    key = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid") and k.get("crv") == "Ed25519"), None)
    if key is None:
        raise Problem("receipt: no Ed25519 key with kid %r in the JWKS" % header.get("kid"))
    try:
        Ed25519PublicKey.from_public_bytes(b64url(key["x"])).verify(b64url(parts[2]), (parts[0] + "." + parts[1]).encode())
    except (InvalidSignature, ValueError):
        raise Problem("receipt %s: the signature does not verify (the receipt was altered)" % claims.get("jti"))
    if claims.get("version") != RECEIPT_VERSION:
        raise Problem("receipt %s: version %r is not %s" % (claims.get("jti"), claims.get("version"), RECEIPT_VERSION))
    for event in claims.get("events", []):
        seq = event.get("seq")
        if not isinstance(seq, int) or not 1 <= seq <= len(events):
            raise Problem("receipt %s: event #%s is not in the bundle" % (claims.get("jti"), seq))
        held = events[seq - 1]
        if event.get("leaf_index") != seq - 1:
            raise Problem("receipt %s: event #%d claims leaf %s" % (claims.get("jti"), seq, event.get("leaf_index")))
        for field, bundled in (("hash", "hash"), ("purpose", "purpose"), ("action", "action"), ("policy_version_id", "policy_version_id")):
            if event.get(field) != held.get(bundled):
                raise Problem("receipt %s: event #%d's %s differs from the ledger's" % (claims.get("jti"), seq, field))
    return claims


def check_proof(proof, tree_keys):
    head = proof.get("tree_head", {})
    if not head_is_signed(head, tree_keys):
        raise Problem("proof: its tree head is not signed by a trusted key")
    root, size = bytes.fromhex(head["root"]), head["size"]
    for event in proof.get("events", []):
        path = [bytes.fromhex(p) for p in event.get("proof", [])]
        if not verify_inclusion(root, size, event["leaf_index"], bytes.fromhex(event["hash"]), path):
            raise Problem("proof: event #%s is not in the signed tree of size %d" % (event.get("seq"), size))
    return len(proof.get("events", []))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--receipt", action="append", default=[], help="a receipt (JWT) file")
    parser.add_argument("--proof", action="append", default=[], help="a proof (JSON) file")
    parser.add_argument("--trust-key", action="append", default=[], help="a tree-head public key (base64) to trust instead of keys.json's")
    args = parser.parse_args(argv)
    try:
        manifest = check_manifest(args.bundle)
        keys = json.load(open(os.path.join(args.bundle, "keys.json"), encoding="utf-8"))
        tree_keys = {k["key_id"]: k["public_key"] for k in keys.get("tree_head_keys", [])}
        if args.trust_key:
            tree_keys = {k: v for k, v in tree_keys.items() if v in args.trust_key}
        events = read_lines(os.path.join(args.bundle, "events.jsonl"))
        leaves = check_events(events)
        heads = read_lines(os.path.join(args.bundle, "heads.jsonl"))
        witnessed = read_lines(os.path.join(args.bundle, "witness.jsonl"))
        checked = check_heads(heads, witnessed, leaves, tree_keys)
        for path in args.receipt:
            claims = check_receipt(open(path, encoding="utf-8").read(), events, keys.get("jwks", {}))
            print("receipt %s: signed, %d events in the ledger" % (claims.get("jti"), len(claims.get("events", []))))
        for path in args.proof:
            n = check_proof(json.load(open(path, encoding="utf-8")), tree_keys)
            print("proof %s: %d events proven in a signed tree head" % (os.path.basename(path), n))
    except Problem as problem:
        print("FAIL: %s" % problem, file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError) as error:
        print("FAIL: the bundle cannot be read: %s" % error, file=sys.stderr)
        return 1
    print("OK: %s from %s: %d events chained, %d signed heads verified, %d witnessed"
          % (manifest["format"], manifest.get("issuer", "?"), len(events), checked, len(witnessed)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
