#!/usr/bin/env python3
"""Independent verifier for Waymark ledger exports, written from SPEC.md (v1.1) alone.

v1.1 section 13 (governance decisions: bodies, decisions, authority transfers, hypotheses) is
replayed with rules 9-12 and projected into the status additions `bodies`, `decisions` and
`authority`; the readings chosen where section 13 is open are written down at SECTION13 below.

    python3 waymark_verify.py LOG.jsonl [--status-at N --status FILE] [--checkpoint NOTE --key VKEY]
                              [--inclusion PROOF.json] [--consistency PROOF.json --old-root HEX --new-root HEX]
                              [--print-status N]

Prints one JSON object {"ok","checked","head","first_bad_seq","problem","detail"} on stdout
(on stderr when --print-status puts the status projection on stdout).
Exit 0 = verified, 3 = verification failed, 2 = usage error (bad arguments, unreadable file).
"""
import argparse
import base64
import copy
import datetime
import hashlib
import json
import re
import sys

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PROBLEMS = ("hash_mismatch", "prev_mismatch", "seq_gap", "bad_signature", "unknown_actor", "rule_violation",
            "time_regression", "checkpoint_mismatch", "status_mismatch", "truncated", "malformed")
SIG_PREFIX = b"waymark-statement/v1\n"
EVENT_KEYS = ("ledger", "type", "version", "actor", "issued_at", "payload", "seq", "prev", "recorded_at", "sig")
STATEMENT_KEYS = ("ledger", "type", "version", "actor", "issued_at", "payload")
LEDGER_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
MILESTONE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
HEX64_RE = re.compile(r"[0-9a-f]{64}")
TS_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
URL_RE = re.compile(r"https?://[^\s/?#]+[^\s]*")
ROLES = ("steward", "reviewer", "reporter")
STATUSES = ("not_started", "in_progress", "achieved")
MAX_INT, MAX_STR, MAX_EVIDENCE, MAX_STATEMENT = 2**53 - 1, 4096, 16, 64 * 1024
MAX_LEAF = 65535            # v1.1 rule 8: an event's leaf bytes fit one C2SP tile entry
# SPEC section 2's dates, by event type: checked with the grammar, ahead of the rules.
DATE_FIELDS = {"MilestoneStatusChanged": "effective_on", "SeasonOpened": "starts_on",
               "SeasonReEvaluated": "ends_on", "AuthorityTransferred": "effective_on"}

S, I = "string", "integer"   # payload shapes (SPEC section 5); a key ending in "?" is optional
PAYLOADS = {
    "LedgerOpened": {"title": S, "origin": S, "log_key": S, "founder": {"actor": S, "name": S, "public_key": S},
                     "framework": {"id": S, "version": S, "title": S, "principles": [{"id": S, "title": S}],
                                   "layers": [{"id": S, "title": S, "phases": [S]}],
                                   "phases": [{"id": S, "title": S, "description": S}]}},
    "ActorRegistered": {"actor": S, "name": S, "roles": [S], "public_key": S},
    "ActorRolesChanged": {"actor": S, "roles": [S]},
    "ActorKeyRotated": {"actor": S, "public_key": S},
    "ActorRetired": {"actor": S, "reason": S},
    "MilestoneDefined": {"id": S, "title": S, "layer": S, "phase": S, "description": S,
                         "principles": [S], "depends_on": [S]},
    "MilestoneRevised": {"id": S, "reason": S, "title?": S, "description?": S, "phase?": S,
                         "principles?": [S], "depends_on?": [S]},
    "MilestoneRetired": {"id": S, "reason": S},
    "MilestoneStatusChanged": {"id": S, "from": S, "to": S, "reason": S, "evidence": [S], "effective_on?": S},
    "PhaseTransitioned": {"layer": S, "from": S, "to": S, "reason": S},
    "SeasonOpened": {"season": I, "starts_on": S, "intent": S, "focus": [S]},
    "SeasonReEvaluated": {"season": I, "ends_on": S, "summary": S, "assessments": [{"milestone": S, "note": S}]},
}

# ---- SPEC v1.1 section 13 (governance decisions). SECTION13: readings chosen where the text is open
# (each is also listed in the report that introduced this code):
#  a. Rule 0 is strict for the section-13 types: an extra key anywhere in their payloads (design,
#     signers, vetoes[], profile included) is `malformed` even without --strict-payload-keys,
#     because section 13 says so for these types; v1 types keep the v1 behaviour of this verifier.
#     So `current` in a DecisionRevised is an extra key (rule 0, `malformed`), not a rule 10 breach.
#  b. A value of the right JSON type outside its set or range (`kind`, `process`, profile values,
#     basis points, `signers`, `outcome`) is a rule violation (rules 9, 10, 12), not rule 0.
#  c. Ids that break the milestone-id pattern are rule violations (rule 9 bodies, 10 decisions,
#     12 hypotheses), as rule 2 does for milestones in this verifier.
#  d. Every recorded design is checked with rule 10 (canonical form, bodies defined and unretired,
#     process, basis points, signers), also `from`/`to` of AuthorityTransferred; rule 11 then
#     compares `from` with the current design and `to` with it (JCS bytes).
#  e. "deciders ... non-empty unless process is suspended": a suspended design may have deciders
#     or none; every other process needs at least one.
#  f. A decision named by AuthorityTransferred must be defined (rule 11), by HypothesisStated or
#     HypothesisConcluded (rule 12), by DecisionRevised (rule 10).
#  g. "at least one of" for BodyRevised / DecisionRevised is a rule violation (rule 9 / 10), as for
#     MilestoneRevised in this verifier.
#  h. `principles` / `milestones` not sorted or with repeats is rule 10; `reason` must be non-empty
#     only where a rule says so (AuthorityTransferred, rule 11); a body/decision/hypothesis revise
#     or retire with an empty reason, title or description is accepted.
#  i. A URL in `charter`, `source` or the evidence of the new types that is not http(s) is rule 12
#     (the sentence sits in rule 12); more than 16 evidence links is rule 8.
#  j. A retired body named by BodyRevised / BodyRetired / a design is rule 9 or 10 and rule 6.
#  k. A target, once set, cannot be removed (null is forbidden and absence means "unchanged").
#  l. Milestones retired after a decision names them stay in its `milestones` list.
S13_TYPES = ("BodyDefined", "BodyRevised", "BodyRetired", "DecisionDefined", "DecisionRevised",
             "AuthorityTransferred", "HypothesisStated", "HypothesisConcluded")
BODY_KINDS = ("foundation", "house", "council", "board", "commission", "multisig", "contract", "other")
PROCESSES = ("vote", "approval", "optimistic", "appointment", "multisig", "automatic", "discretion", "suspended")
OUTCOMES = ("supported", "refuted", "inconclusive")
PROFILE_SETS = {"cadence": ("rare", "seasonal", "frequent"), "stakes": ("low", "high"),
                "complexity": ("single", "multi"), "answer": ("measurement", "prediction", "judgement"),
                "space": ("convex", "concave")}
DESIGN_LISTS = ("proposers", "deciders", "executors")
DESIGN = {"proposers": [S], "deciders": [S], "process": S, "threshold_bps?": I, "quorum_bps?": I,
          "signers?": {"m": I, "n": I}, "vetoes": [{"body": S, "threshold_bps?": I}], "executors": [S]}
PROFILE = {"cadence?": S, "stakes?": S, "complexity?": S, "answer?": S, "space?": S, "leverage?": I}
PAYLOADS.update({
    "BodyDefined": {"id": S, "title": S, "kind": S, "description": S, "charter?": S},
    "BodyRevised": {"id": S, "reason": S, "title?": S, "description?": S, "charter?": S},
    "BodyRetired": {"id": S, "reason": S},
    "DecisionDefined": {"id": S, "title": S, "description": S, "layer": S, "principles": [S], "profile": PROFILE,
                        "current": DESIGN, "target?": DESIGN, "milestones": [S], "source?": S},
    "DecisionRevised": {"id": S, "reason": S, "title?": S, "description?": S, "profile?": PROFILE,
                        "target?": DESIGN, "milestones?": [S]},
    "AuthorityTransferred": {"decision": S, "from": DESIGN, "to": DESIGN, "reason": S, "evidence": [S],
                             "effective_on": S},
    "HypothesisStated": {"decision": S, "id": S, "statement": S, "measure": S},
    "HypothesisConcluded": {"decision": S, "id": S, "outcome": S, "note": S, "evidence": [S]},
})

STEWARD, REVIEW, ANY = {"steward"}, {"steward", "reviewer"}, {"steward", "reviewer", "reporter"}
SIGNERS = {t: STEWARD for t in PAYLOADS}
SIGNERS.update(MilestoneStatusChanged=ANY, PhaseTransitioned=REVIEW, SeasonReEvaluated=REVIEW,
               AuthorityTransferred=REVIEW, HypothesisStated=REVIEW, HypothesisConcluded=REVIEW)


class Failure(Exception):
    """A verification failure: one of PROBLEMS, a human detail and the first bad seq (or None)."""

    def __init__(self, problem, detail, seq=None):
        assert problem in PROBLEMS, problem
        super().__init__(detail)
        self.problem, self.detail, self.seq = problem, detail, seq


# ---------------------------------------------------------------- canonical bytes and strict JSON

def jcs(value):
    return rfc8785.dumps(value)


def strict_loads(data):
    """Parse UTF-8 JSON, rejecting invalid UTF-8, duplicate keys, floats, NaN/Infinity (SPEC section 2)."""
    def pairs(items):
        obj = {}
        for k, v in items:
            if k in obj:
                raise ValueError(f"duplicate key {k!r}")
            obj[k] = v
        return obj

    def no_float(s):
        raise ValueError(f"float {s!r} not allowed")

    def no_const(s):
        raise ValueError(f"{s} not allowed")

    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    return json.loads(text, object_pairs_hook=pairs, parse_float=no_float, parse_constant=no_const)


def b64decode_strict(s, length=None):
    """Standard base64 with padding, canonical encoding only; returns bytes or None."""
    if not isinstance(s, str):
        return None
    try:
        raw = base64.b64decode(s, validate=True)
    except ValueError:
        return None
    if base64.b64encode(raw).decode() != s or (length is not None and len(raw) != length):
        return None
    return raw


def valid_timestamp(s):
    if not isinstance(s, str) or not TS_RE.fullmatch(s):
        return False
    try:
        datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
        return True
    except ValueError:
        return False


def valid_date(s):
    if not isinstance(s, str) or not DATE_RE.fullmatch(s):
        return False
    try:
        datetime.date.fromisoformat(s)
        return True
    except ValueError:
        return False


def ed25519_verify(pub, sig, msg):
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


def check_shape(value, spec, path, strict_keys):
    """Check a payload against its shape in PAYLOADS; raise Failure('malformed') naming the field."""
    if spec == S:
        ok = type(value) is str
    elif spec == I:
        ok = type(value) is int
    elif isinstance(spec, list):
        ok = type(value) is list
        if ok:
            for i, item in enumerate(value):
                check_shape(item, spec[0], f"{path}[{i}]", strict_keys)
    else:
        ok = type(value) is dict
        if ok:
            names = {k.rstrip("?") for k in spec}
            for key, sub in spec.items():
                name = key.rstrip("?")
                if name in value:
                    check_shape(value[name], sub, f"{path}.{name}", strict_keys)
                elif not key.endswith("?"):
                    raise Failure("malformed", f"{path}.{name} is missing")
            extra = sorted(set(value) - names)
            if strict_keys and extra:
                raise Failure("malformed", f"{path} has unknown keys {extra}")
    if not ok:
        kind = spec if isinstance(spec, str) else "array" if isinstance(spec, list) else "object"
        raise Failure("malformed", f"{path} must be of JSON type {kind}")


def find_nul(value, path):
    """SPEC section 2: no string (value or key) may hold U+0000; raise Failure('malformed')."""
    if type(value) is str:
        if "\x00" in value:
            raise Failure("malformed", f"{path}: U+0000 in a string (SPEC section 2)")
    elif type(value) is list:
        for i, item in enumerate(value):
            find_nul(item, f"{path}[{i}]")
    elif type(value) is dict:
        for k, v in value.items():
            find_nul(k, f"{path} key")
            find_nul(v, f"{path}.{k}")


def walk_limits(value, path):
    """Rule 8 string limit and the SPEC section 2 integer range, over every value and key."""
    if type(value) is str:
        if len(value) > MAX_STR:
            raise Failure("rule_violation", f"rule 8: {path} is longer than {MAX_STR} characters")
    elif type(value) is int:
        if abs(value) > MAX_INT:
            raise Failure("malformed", f"{path}: integer outside ±(2^53−1)")
    elif type(value) is bool or value is None:
        pass
    elif type(value) is list:
        for i, item in enumerate(value):
            walk_limits(item, f"{path}[{i}]")
    elif type(value) is dict:
        for k, v in value.items():
            walk_limits(k, f"{path} key")
            walk_limits(v, f"{path}.{k}")
    else:
        raise Failure("malformed", f"{path}: unsupported JSON value")


# ---------------------------------------------------------------- signed notes and log keys (C2SP)

def key_id(name, pub):
    return hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]


def valid_key_name(name):
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def parse_verifier_key(vkey):
    """`<name>+<8 hex key id>+<base64(0x01 || pubkey)>` -> (name, key id bytes, pubkey); ValueError if bad."""
    if not isinstance(vkey, str) or vkey.count("+") < 2:
        raise ValueError("verifier key must be name+keyid+key")
    name, kid_hex, data = vkey.split("+", 2)  # names hold no "+", base64 may: split from the left (as Go's note.NewVerifier)
    if not valid_key_name(name) or not re.fullmatch(r"[0-9a-f]{8}", kid_hex):
        raise ValueError("bad name or key id in verifier key")
    raw = b64decode_strict(data, 33)
    if raw is None or raw[0] != 0x01:
        raise ValueError("verifier key data must be base64(0x01 || 32-byte Ed25519 key)")
    if key_id(name, raw[1:]) != bytes.fromhex(kid_hex):
        raise ValueError("verifier key id does not match SHA-256(name || \"\\n\" || 0x01 || key)")
    return name, bytes.fromhex(kid_hex), raw[1:]


def open_note(note, vkey):
    """Verify a C2SP signed note with one verifier key; return the note text (body with final newline)."""
    name, kid, pub = parse_verifier_key(vkey)
    try:
        text = note.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure("malformed", "checkpoint is not UTF-8")
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise Failure("malformed", "signed note needs text, a blank line and signature lines ending in newline")
    body, sig_lines = text[:split + 1], text[split + 2:-1].split("\n")
    if any(ord(c) < 0x20 and c != "\n" for c in body):
        raise Failure("malformed", "control character in note text")
    verified = False
    for line in sig_lines:
        m = re.fullmatch(r"\u2014 (\S+) (\S+)", line)
        raw = b64decode_strict(m.group(2)) if m else None
        if raw is None or len(raw) < 5:
            raise Failure("malformed", f"bad signature line {line!r}")
        if m.group(1) == name and raw[:4] == kid:
            if len(raw) != 68 or not ed25519_verify(pub, raw[4:], body.encode()):
                raise Failure("checkpoint_mismatch", f"note signature by {name} does not verify")
            verified = True
    if not verified:
        raise Failure("checkpoint_mismatch", f"note carries no signature by key {name}+{kid.hex()}")
    return body


def parse_checkpoint_body(body):
    """`<origin>\\n<size>\\n<base64 root>\\n` -> (origin, size, root bytes)."""
    lines = body.split("\n")
    if len(lines) != 4 or lines[3] != "" or not lines[0]:
        raise Failure("malformed", "checkpoint body must be exactly origin, size and root lines")
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", lines[1]):
        raise Failure("malformed", f"bad checkpoint size {lines[1]!r}")
    root = b64decode_strict(lines[2], 32)
    if root is None:
        raise Failure("malformed", "checkpoint root must be base64 of 32 bytes")
    return lines[0], int(lines[1]), root


# ---------------------------------------------------------------- Merkle tree (RFC 9162 section 2.1)

def leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(hashes):
    """MTH over leaf hashes; the empty tree hashes to SHA-256("")."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)        # largest power of two < n
    return node_hash(merkle_root(hashes[:k]), merkle_root(hashes[k:]))


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, path):
    """RFC 9162 section 2.1.4.2 (first == second: empty proof and equal roots)."""
    if first < 1 or first > second:
        return False
    if first == second:
        return not path and first_hash == second_hash
    if not path:
        return False
    if first & (first - 1) == 0:
        path = [first_hash] + list(path)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0


# ---------------------------------------------------------------- replay: signatures and rules

class Replay:
    """Ledger state rebuilt event by event; apply() enforces SPEC sections 3-5 and raises Failure."""

    def __init__(self, strict_keys=False):
        self.strict_keys = strict_keys
        self.ledger = self.origin = self.log_key = self.framework = None
        self.actors = {}        # id -> {"key": bytes, "roles": set, "retired": bool}
        self.milestones = {}    # id -> dict (see _define)
        self.layer_phase = {}   # layer id -> current phase
        self.season = None      # latest season opened: {"number","state","starts_on","ends_on","focus"}
        self.bodies = {}        # section 13: id -> {"id","title","kind","retired"}
        self.decisions = {}     # section 13: id -> {"id","title","layer","current","target","milestones",
        #                                             "hypotheses": {id: outcome or None},"last_change"}
        self.sigs = set()
        self.head = None        # {"seq","hash","recorded_at"}

    # -- checks shared by the rules
    def violation(self, msg):
        raise Failure("rule_violation", msg)

    def layer(self, layer_id):
        for layer in self.framework["layers"]:
            if layer["id"] == layer_id:
                return layer
        self.violation(f"rule 2: layer {layer_id!r} is not in the framework")

    def live_milestone(self, mid, field="id"):
        m = self.milestones.get(mid)
        if m is None:
            self.violation(f"rule 2: {field} {mid!r} is not a defined milestone")
        if m["retired"]:
            self.violation(f"rule 6: milestone {mid!r} is retired")
        return m

    def check_deps(self, mid, deps):
        for d in deps:
            if d == mid:
                self.violation(f"rule 2: depends_on: milestone {mid!r} depends on itself")
            self.live_milestone(d, "depends_on")
        graph = {k: list(m["depends_on"]) for k, m in self.milestones.items()}
        graph[mid] = list(deps)
        state = {}

        def visit(n, trail):
            state[n] = 1
            for d in graph.get(n, ()):
                if state.get(d) == 1:
                    self.violation(f"rule 2: depends_on makes a cycle: {' -> '.join(trail + [d])}")
                if d not in state:
                    visit(d, trail + [d])
            state[n] = 2
        for n in list(graph):
            if n not in state:
                visit(n, [n])

    def live_actor(self, aid):
        a = self.actors.get(aid)
        if a is None:
            self.violation(f"payload.actor {aid!r} is not registered")
        if a["retired"]:
            self.violation(f"rule 6: actor {aid!r} is retired")
        return a

    def roles(self, roles):
        bad = [r for r in roles if r not in ROLES]
        if bad:
            self.violation(f"payload.roles: unknown roles {bad}")
        return set(roles)

    # -- one event
    def apply(self, ev, hash_hex):
        seq, etype, payload = ev["seq"], ev["type"], ev["payload"]
        statement = {k: ev[k] for k in STATEMENT_KEYS}
        if len(jcs(statement)) > MAX_STATEMENT:
            self.violation(f"rule 8: statement is larger than {MAX_STATEMENT} bytes")
        find_nul(ev, "event")
        date_field = DATE_FIELDS.get(etype)
        date = payload.get(date_field) if type(payload) is dict and date_field else None
        if type(date) is str and not valid_date(date):
            raise Failure("malformed", f"payload.{date_field} {date!r} is not a real YYYY-MM-DD date")
        if len(jcs(ev)) > MAX_LEAF:
            self.violation(f"rule 8: the event's leaf bytes are longer than {MAX_LEAF}")
        walk_limits(ev, "event")
        if ev["version"] != "1":
            self.violation(f"rule 1: version must be \"1\", got {ev['version']!r}")
        if etype not in PAYLOADS:
            self.violation(f"type {etype!r} is not an event type of SPEC section 5")
        check_shape(payload, PAYLOADS[etype], "payload", self.strict_keys or etype in S13_TYPES)
        if seq == 1 and etype != "LedgerOpened":
            self.violation("rule 1: seq 1 must be LedgerOpened")
        if etype == "LedgerOpened" and seq != 1:
            self.violation("rule 1: LedgerOpened is allowed at seq 1 only")
        if seq == 1:
            if not LEDGER_RE.fullmatch(ev["ledger"]):
                raise Failure("malformed", f"ledger id {ev['ledger']!r} does not match {LEDGER_RE.pattern}")
            self.ledger = ev["ledger"]
        elif ev["ledger"] != self.ledger:
            self.violation(f"rule 1: ledger {ev['ledger']!r} differs from {self.ledger!r}")

        # rule 1 (signer and signature) and rule 7 (replays)
        if etype == "LedgerOpened":
            if payload["founder"]["actor"] != ev["actor"]:
                self.violation("rule 1: LedgerOpened must be signed by payload.founder.actor")
            key = b64decode_strict(payload["founder"]["public_key"], 32)
            if key is None:
                self.violation("payload.founder.public_key is not base64 of 32 bytes")
            signer = {"key": key, "roles": {"steward"}, "retired": False}
        else:
            signer = self.actors.get(ev["actor"])
            if signer is None:
                raise Failure("unknown_actor", f"actor {ev['actor']!r} is not registered")
        sig = b64decode_strict(ev["sig"], 64)
        if sig is None or not ed25519_verify(signer["key"], sig, SIG_PREFIX + jcs(statement)):
            raise Failure("bad_signature", f"sig does not verify with {ev['actor']!r}'s current key")
        if sig in self.sigs:
            self.violation("rule 7: this sig was already recorded (replay)")
        if signer["retired"]:
            self.violation(f"rule 6: actor {ev['actor']!r} is retired")
        if not signer["roles"] & SIGNERS[etype]:
            self.violation(f"rule 1: actor {ev['actor']!r} holds no role allowed to sign {etype}")

        getattr(self, "on_" + etype)(ev, payload)
        self.sigs.add(sig)
        self.head = {"seq": seq, "hash": hash_hex, "recorded_at": ev["recorded_at"]}

    # -- section 5, one handler per type (validate, then mutate)
    def on_LedgerOpened(self, ev, p):
        try:
            name, _, _ = parse_verifier_key(p["log_key"])
        except ValueError as e:
            self.violation(f"payload.log_key: {e}")
        if name != p["origin"]:
            self.violation("payload.log_key: key name must be the origin")
        fw = p["framework"]
        phase_ids = [ph["id"] for ph in fw["phases"]]
        for what, ids in (("phases", phase_ids), ("layers", [la["id"] for la in fw["layers"]]),
                          ("principles", [pr["id"] for pr in fw["principles"]])):
            if len(set(ids)) != len(ids):
                self.violation(f"payload.framework.{what}: duplicate ids")
        for la in fw["layers"]:
            if not la["phases"] or len(set(la["phases"])) != len(la["phases"]) \
                    or any(ph not in phase_ids for ph in la["phases"]):
                self.violation(f"payload.framework.layers: layer {la['id']!r} needs distinct, known phases")
        self.origin, self.log_key, self.framework = p["origin"], p["log_key"], fw
        self.layer_phase = {la["id"]: la["phases"][0] for la in fw["layers"]}
        founder = p["founder"]
        self.actors[founder["actor"]] = {"key": b64decode_strict(founder["public_key"]),
                                         "roles": {"steward"}, "retired": False}

    def on_ActorRegistered(self, ev, p):
        if p["actor"] in self.actors:
            self.violation(f"payload.actor {p['actor']!r} is already registered")
        key = b64decode_strict(p["public_key"], 32)
        if key is None:
            self.violation("payload.public_key is not base64 of 32 bytes")
        self.actors[p["actor"]] = {"key": key, "roles": self.roles(p["roles"]), "retired": False}

    def on_ActorRolesChanged(self, ev, p):
        self.live_actor(p["actor"])["roles"] = self.roles(p["roles"])

    def on_ActorKeyRotated(self, ev, p):
        actor = self.live_actor(p["actor"])
        key = b64decode_strict(p["public_key"], 32)
        if key is None:
            self.violation("payload.public_key is not base64 of 32 bytes")
        actor["key"] = key          # takes effect from the next event on

    def on_ActorRetired(self, ev, p):
        self.live_actor(p["actor"])["retired"] = True

    def on_MilestoneDefined(self, ev, p):
        mid = p["id"]
        if not MILESTONE_RE.fullmatch(mid):
            self.violation(f"rule 2: payload.id {mid!r} does not match {MILESTONE_RE.pattern}")
        if mid in self.milestones:
            self.violation(f"rule 2: payload.id {mid!r} is already defined")
        if p["phase"] not in self.layer(p["layer"])["phases"]:
            self.violation(f"rule 2: payload.phase {p['phase']!r} is not a phase of layer {p['layer']!r}")
        self.check_deps(mid, p["depends_on"])
        self.milestones[mid] = {"id": mid, "title": p["title"], "layer": p["layer"], "phase": p["phase"],
                                "depends_on": list(p["depends_on"]), "status": "not_started",
                                "retired": False, "ever_achieved": False, "last_change": self.change(ev)}

    def on_MilestoneRevised(self, ev, p):
        m = self.live_milestone(p["id"])
        fields = [k for k in ("title", "description", "phase", "principles", "depends_on") if k in p]
        if not fields:
            self.violation("MilestoneRevised needs at least one of title, description, phase, principles, depends_on")
        if "phase" in p and p["phase"] not in self.layer(m["layer"])["phases"]:
            self.violation(f"rule 2: payload.phase {p['phase']!r} is not a phase of layer {m['layer']!r}")
        if "depends_on" in p:
            self.check_deps(m["id"], p["depends_on"])
        for k in ("title", "phase", "depends_on"):
            if k in p:
                m[k] = list(p[k]) if k == "depends_on" else p[k]
        m["last_change"] = self.change(ev)

    def on_MilestoneRetired(self, ev, p):
        m = self.live_milestone(p["id"])
        m["retired"], m["last_change"] = True, self.change(ev)

    def on_MilestoneStatusChanged(self, ev, p):
        m = self.live_milestone(p["id"])
        if p["from"] not in STATUSES or p["to"] not in STATUSES:
            self.violation(f"rule 3: status values are {STATUSES}")
        if p["from"] != m["status"]:
            self.violation(f"rule 3: payload.from {p['from']!r} is not the current status {m['status']!r}")
        if p["to"] == p["from"]:
            self.violation("rule 3: payload.to equals the current status")
        if not p["reason"]:
            self.violation("rule 3: payload.reason is empty")
        if len(p["evidence"]) > MAX_EVIDENCE:
            self.violation(f"rule 8: more than {MAX_EVIDENCE} evidence links")
        bad = [u for u in p["evidence"] if not URL_RE.fullmatch(u)]
        if bad:
            self.violation(f"rule 3: payload.evidence: not http(s) URLs: {bad}")
        if "effective_on" in p and not valid_date(p["effective_on"]):
            raise Failure("malformed", "payload.effective_on is not a YYYY-MM-DD date")
        if p["to"] == "achieved":
            unmet = [d for d in m["depends_on"] if self.milestones[d]["status"] != "achieved"]
            if unmet:
                self.violation(f"rule 3: dependencies not achieved: {unmet}")
            if not p["evidence"]:
                self.violation("rule 3: achieved needs at least one evidence link")
        m["status"], m["last_change"] = p["to"], self.change(ev)
        m["ever_achieved"] |= p["to"] == "achieved"

    def on_PhaseTransitioned(self, ev, p):
        phases, current = self.layer(p["layer"])["phases"], self.layer_phase.get(p["layer"])
        if p["from"] != current:
            self.violation(f"rule 4: payload.from {p['from']!r} is not the current phase {current!r}")
        i = phases.index(current)
        if i + 1 >= len(phases) or p["to"] != phases[i + 1]:
            self.violation(f"rule 4: payload.to {p['to']!r} is not the next phase of layer {p['layer']!r}")
        blockers = sorted(m["id"] for m in self.milestones.values() if m["layer"] == p["layer"]
                          and m["phase"] == current and not m["retired"] and m["status"] != "achieved")
        if blockers:
            self.violation(f"rule 4: blockers not achieved: {blockers}")
        self.layer_phase[p["layer"]] = p["to"]

    def on_SeasonOpened(self, ev, p):
        n = p["season"]
        if self.season is None and n < 1:
            self.violation("rule 5: the first season number must be >= 1")
        if self.season is not None and n != self.season["number"] + 1:
            self.violation(f"rule 5: season must be {self.season['number'] + 1}")
        if self.season is not None and self.season["state"] == "open":
            self.violation(f"rule 5: season {self.season['number']} is still open")
        if not valid_date(p["starts_on"]):
            raise Failure("malformed", "payload.starts_on is not a YYYY-MM-DD date")
        for mid in p["focus"]:
            if mid not in self.milestones:
                self.violation(f"rule 5: payload.focus names undefined milestone {mid!r}")
        self.season = {"number": n, "state": "open", "starts_on": p["starts_on"], "ends_on": None,
                       "focus": list(p["focus"])}

    def on_SeasonReEvaluated(self, ev, p):
        s = self.season
        if s is None or s["state"] != "open" or s["number"] != p["season"]:
            self.violation(f"rule 5: season {p['season']} is not the open season")
        if not valid_date(p["ends_on"]):
            raise Failure("malformed", "payload.ends_on is not a YYYY-MM-DD date")
        if p["ends_on"] < s["starts_on"]:
            self.violation("rule 5: payload.ends_on is before starts_on")
        for a in p["assessments"]:
            if a["milestone"] not in self.milestones:
                self.violation(f"rule 5: payload.assessments names undefined milestone {a['milestone']!r}")
        s["state"], s["ends_on"] = "closed", p["ends_on"]

    # -- section 13 (v1.1): bodies, decisions, authority, hypotheses
    @staticmethod
    def design_bodies(design):
        """The bodies a design names: proposers, deciders, vetoes[].body, executors."""
        return set(design["proposers"]) | set(design["deciders"]) | set(design["executors"]) \
            | {v["body"] for v in design["vetoes"]}

    def live_body(self, bid, rule, field="id"):
        b = self.bodies.get(bid)
        if b is None:
            self.violation(f"rule {rule}: payload.{field} {bid!r} is not a defined body")
        if b["retired"]:
            self.violation(f"rule {rule} (and rule 6): payload.{field} names retired body {bid!r}")
        return b

    def known_decision(self, did, rule, field="decision"):
        d = self.decisions.get(did)
        if d is None:
            self.violation(f"rule {rule}: payload.{field} {did!r} is not a defined decision")
        return d

    def check_id(self, value, rule, field="id"):
        if not MILESTONE_RE.fullmatch(value):
            self.violation(f"rule {rule}: payload.{field} {value!r} does not match {MILESTONE_RE.pattern}")

    def sorted_ids(self, ids, rule, field):
        """Canonical id list: strictly increasing in byte order (UTF-8 byte order = code point order)."""
        if any(a >= b for a, b in zip(ids, ids[1:])):
            self.violation(f"rule {rule}: payload.{field} is not sorted in byte order without repeats")

    def bps(self, value, field):
        if not 1 <= value <= 10000:
            self.violation(f"rule 10: payload.{field} {value} is not a basis-point value 1..10000")

    def check_design(self, d, field):
        """Rule 10 on one recorded design: canonical, named bodies live, process/bps/signers in range."""
        if d["process"] not in PROCESSES:
            self.violation(f"rule 10: payload.{field}.process {d['process']!r} is not one of {PROCESSES}")
        for k in DESIGN_LISTS:
            self.sorted_ids(d[k], 10, f"{field}.{k}")
        self.sorted_ids([v["body"] for v in d["vetoes"]], 10, f"{field}.vetoes[].body")
        if not d["deciders"] and d["process"] != "suspended":
            self.violation(f"rule 10: payload.{field}.deciders is empty but process is {d['process']!r}")
        for k in ("threshold_bps", "quorum_bps"):
            if k in d:
                self.bps(d[k], f"{field}.{k}")
        for i, v in enumerate(d["vetoes"]):
            if "threshold_bps" in v:
                self.bps(v["threshold_bps"], f"{field}.vetoes[{i}].threshold_bps")
        if "signers" in d:
            m, n = d["signers"]["m"], d["signers"]["n"]
            if not 1 <= m <= n <= 1000:
                self.violation(f"rule 10: payload.{field}.signers {m} of {n} breaks 1 <= m <= n <= 1000")
        for b in sorted(self.design_bodies(d)):
            self.live_body(b, 10, f"{field} body")

    def check_profile(self, prof):
        for k, allowed in PROFILE_SETS.items():
            if k in prof and prof[k] not in allowed:
                self.violation(f"rule 10: payload.profile.{k} {prof[k]!r} is not one of {allowed}")
        if "leverage" in prof and not 1 <= prof["leverage"] <= 12:
            self.violation(f"rule 10: payload.profile.leverage {prof['leverage']} is not in 1..12")

    def check_milestone_list(self, mids):
        self.sorted_ids(mids, 10, "milestones")
        for mid in mids:
            m = self.milestones.get(mid)
            if m is None:
                self.violation(f"rule 10: payload.milestones names undefined milestone {mid!r}")
            if m["retired"]:
                self.violation(f"rule 10 (and rule 6): payload.milestones names retired milestone {mid!r}")

    def check_url(self, value, field):
        if not URL_RE.fullmatch(value):
            self.violation(f"rule 12: payload.{field} {value!r} is not an http(s):// URL")

    def check_evidence(self, evidence):
        if len(evidence) > MAX_EVIDENCE:
            self.violation(f"rule 8: more than {MAX_EVIDENCE} evidence links")
        for i, u in enumerate(evidence):
            self.check_url(u, f"evidence[{i}]")

    def on_BodyDefined(self, ev, p):
        self.check_id(p["id"], 9)
        if p["id"] in self.bodies:
            self.violation(f"rule 9: body {p['id']!r} is already defined")
        if p["kind"] not in BODY_KINDS:
            self.violation(f"rule 9: payload.kind {p['kind']!r} is not one of {BODY_KINDS}")
        if "charter" in p:
            self.check_url(p["charter"], "charter")
        self.bodies[p["id"]] = {"id": p["id"], "title": p["title"], "kind": p["kind"], "retired": False}

    def on_BodyRevised(self, ev, p):
        b = self.live_body(p["id"], 9)
        if not any(k in p for k in ("title", "description", "charter")):
            self.violation("rule 9: BodyRevised needs at least one of title, description, charter")
        if "charter" in p:
            self.check_url(p["charter"], "charter")
        b["title"] = p.get("title", b["title"])

    def on_BodyRetired(self, ev, p):
        b = self.live_body(p["id"], 9)
        naming = sorted(did for did, d in self.decisions.items()
                        if any(p["id"] in self.design_bodies(x) for x in (d["current"], d["target"]) if x))
        if naming:
            self.violation(f"rule 9: body {p['id']!r} is still named by decisions {naming}")
        b["retired"] = True

    def on_DecisionDefined(self, ev, p):
        self.check_id(p["id"], 10)
        if p["id"] in self.decisions:
            self.violation(f"rule 10: decision {p['id']!r} is already defined")
        if p["layer"] not in [la["id"] for la in self.framework["layers"]]:
            self.violation(f"rule 10: payload.layer {p['layer']!r} is not in the framework")
        self.sorted_ids(p["principles"], 10, "principles")
        known = {pr["id"] for pr in self.framework["principles"]}
        for pr in p["principles"]:
            if pr not in known:
                self.violation(f"rule 10: payload.principles names {pr!r}, not a principle of the framework")
        self.check_milestone_list(p["milestones"])
        self.check_profile(p["profile"])
        self.check_design(p["current"], "current")
        if "target" in p:
            self.check_design(p["target"], "target")
        if "source" in p:
            self.check_url(p["source"], "source")
        self.decisions[p["id"]] = {"id": p["id"], "title": p["title"], "layer": p["layer"],
                                   "current": p["current"], "target": p.get("target"),
                                   "milestones": list(p["milestones"]), "hypotheses": {},
                                   "last_change": self.change(ev)}

    def on_DecisionRevised(self, ev, p):
        d = self.known_decision(p["id"], 10, "id")
        if not any(k in p for k in ("title", "description", "profile", "target", "milestones")):
            self.violation("rule 10: DecisionRevised needs at least one of title, description, profile, target, "
                           "milestones")
        if "profile" in p:
            self.check_profile(p["profile"])
        if "target" in p:
            self.check_design(p["target"], "target")
        if "milestones" in p:
            self.check_milestone_list(p["milestones"])
        for k in ("title", "target", "milestones"):
            if k in p:
                d[k] = p[k]
        d["last_change"] = self.change(ev)

    def on_AuthorityTransferred(self, ev, p):
        d = self.known_decision(p["decision"], 11)
        self.check_design(p["from"], "from")
        self.check_design(p["to"], "to")
        if jcs(p["from"]) != jcs(d["current"]):
            self.violation(f"rule 11: payload.from is not the current design of decision {d['id']!r}")
        if jcs(p["to"]) == jcs(d["current"]):
            self.violation(f"rule 11: payload.to equals the current design of decision {d['id']!r}")
        if not p["reason"]:
            self.violation("rule 11: payload.reason is empty")
        if not p["evidence"]:
            self.violation("rule 11: AuthorityTransferred needs at least one evidence link")
        self.check_evidence(p["evidence"])
        if not valid_date(p["effective_on"]):
            raise Failure("malformed", "payload.effective_on is not a YYYY-MM-DD date")
        d["current"], d["last_change"] = p["to"], self.change(ev)

    def on_HypothesisStated(self, ev, p):
        d = self.known_decision(p["decision"], 12)
        self.check_id(p["id"], 12)
        if p["id"] in d["hypotheses"]:
            self.violation(f"rule 12: hypothesis {p['id']!r} is already stated for decision {d['id']!r}")
        for k in ("statement", "measure"):
            if not p[k]:
                self.violation(f"rule 12: payload.{k} is empty")
        d["hypotheses"][p["id"]], d["last_change"] = None, self.change(ev)

    def on_HypothesisConcluded(self, ev, p):
        d = self.known_decision(p["decision"], 12)
        if p["id"] not in d["hypotheses"]:
            self.violation(f"rule 12: hypothesis {p['id']!r} is not stated for decision {d['id']!r}")
        if d["hypotheses"][p["id"]] is not None:
            self.violation(f"rule 12: hypothesis {p['id']!r} of decision {d['id']!r} is already concluded")
        if p["outcome"] not in OUTCOMES:
            self.violation(f"rule 12: payload.outcome {p['outcome']!r} is not one of {OUTCOMES}")
        if not p["note"]:
            self.violation("rule 12: payload.note is empty")
        self.check_evidence(p["evidence"])
        d["hypotheses"][p["id"]], d["last_change"] = p["outcome"], self.change(ev)

    def project_s13(self):
        """Section 13's status additions (only called when a body or decision is defined)."""
        decisions, counts = [], {"decisions": 0, "at_target": 0, "foundation_decides": 0}
        for _, d in sorted(self.decisions.items()):
            cur, tgt = d["current"], d["target"]
            at_target = tgt is not None and jcs(tgt) == jcs(cur)
            foundation = any(self.bodies[b]["kind"] == "foundation" for b in cur["deciders"])
            decisions.append({"id": d["id"], "title": d["title"], "layer": d["layer"], "current": copy.deepcopy(cur),
                              "target": copy.deepcopy(tgt), "at_target": at_target, "foundation_decides": foundation,
                              "milestones": list(d["milestones"]),
                              "hypotheses": [{"id": h, "outcome": o} for h, o in sorted(d["hypotheses"].items())],
                              "last_change": dict(d["last_change"])})
            counts["decisions"] += 1
            counts["at_target"] += at_target
            counts["foundation_decides"] += foundation
        bodies = [{"id": b["id"], "title": b["title"], "kind": b["kind"], "retired": b["retired"],
                   "decides": sorted(did for did, d in self.decisions.items() if bid in d["current"]["deciders"]),
                   "vetoes": sorted(did for did, d in self.decisions.items()
                                    if bid in {v["body"] for v in d["current"]["vetoes"]})}
                  for bid, b in sorted(self.bodies.items())]
        return {"bodies": bodies, "decisions": decisions, "authority": counts}

    @staticmethod
    def change(ev):
        return {"seq": ev["seq"], "actor": ev["actor"], "recorded_at": ev["recorded_at"]}

    # -- SPEC section 9, required keys only
    def project(self):
        order = [ph["id"] for ph in self.framework["phases"]]
        live = [m for m in self.milestones.values() if not m["retired"]]
        layers = [{"id": la["id"], "title": la["title"], "phase": self.layer_phase[la["id"]],
                   "progress": [{"phase": ph,
                                 "achieved": sum(1 for m in live if m["layer"] == la["id"] and m["phase"] == ph
                                                 and m["status"] == "achieved"),
                                 "total": sum(1 for m in live if m["layer"] == la["id"] and m["phase"] == ph)}
                                for ph in la["phases"]]}
                  for la in self.framework["layers"]]
        overall = min((la["phase"] for la in layers), key=order.index, default=None)
        s = self.season
        focus = set(s["focus"]) if s and s["state"] == "open" else set()
        milestones = [{"id": m["id"], "title": m["title"], "layer": m["layer"], "phase": m["phase"],
                       "status": m["status"], "depends_on": list(m["depends_on"]),
                       "blocked_by": [d for d in m["depends_on"] if self.milestones[d]["status"] != "achieved"],
                       "focus": m["id"] in focus, "regressed": m["ever_achieved"] and m["status"] != "achieved",
                       "retired": m["retired"], "last_change": dict(m["last_change"])}
                      for _, m in sorted(self.milestones.items())]
        status = {"ledger": self.ledger, "as_of": dict(self.head), "overall_phase": overall, "layers": layers,
                  "milestones": milestones, "season": dict(s, focus=list(s["focus"])) if s else None}
        if self.bodies or self.decisions:       # section 13: absent without them (v1 statuses unchanged)
            status.update(self.project_s13())
        return status


# ---------------------------------------------------------------- the export (SPEC section 7)

def read_event(raw, lineno):
    """One export line (without its newline) -> (event, hash hex); checks canonical form and hash."""
    try:
        obj = strict_loads(raw)
        canonical = jcs(obj)
    except (ValueError, RecursionError) as e:     # UnicodeDecodeError, JSON and JCS errors are ValueErrors
        raise Failure("malformed", f"line {lineno}: not strict JSON: {e}")
    if type(obj) is not dict or "hash" not in obj:
        raise Failure("malformed", f"line {lineno}: not an event object with a hash")
    if canonical != raw:
        raise Failure("malformed", f"line {lineno}: not byte-identical to its JCS encoding")
    claimed = obj.pop("hash")
    if type(claimed) is not str or not HEX64_RE.fullmatch(claimed):
        raise Failure("malformed", f"line {lineno}: hash must be 64 lowercase hex digits")
    computed = leaf_hash(jcs(obj)).hex()
    if claimed != computed:
        raise Failure("hash_mismatch", f"line {lineno}: hash {claimed} but SHA-256(0x00 || JCS(event)) "
                                       f"is {computed}")
    if sorted(obj) != sorted(EVENT_KEYS):
        raise Failure("malformed", f"line {lineno}: event keys {sorted(obj)} are not the 10 of SPEC section 4")
    for k in EVENT_KEYS:
        want = {"payload": dict, "seq": int}.get(k, str)
        if type(obj[k]) is not want:
            raise Failure("malformed", f"line {lineno}: {k} must be {want.__name__}")
    return obj, claimed


def check_chain(ev, lineno, prev):
    """seq, prev and recorded_at against the previous event (None before seq 1)."""
    if ev["seq"] != lineno:
        raise Failure("seq_gap", f"line {lineno}: seq {ev['seq']}, expected {lineno}")
    want_prev = prev[0] if prev else "0" * 64
    if ev["prev"] != want_prev:
        raise Failure("prev_mismatch", f"seq {lineno}: prev {ev['prev']} is not {want_prev}")
    for k in ("issued_at", "recorded_at"):
        if not valid_timestamp(ev[k]):
            raise Failure("malformed", f"seq {lineno}: {k} {ev[k]!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    if prev and ev["recorded_at"] < prev[1]:
        raise Failure("time_regression", f"seq {lineno}: recorded_at {ev['recorded_at']} before {prev[1]}")


# ---------------------------------------------------------------- the whole verification

def status_diff(a, b, path="status"):
    """First path where two JSON values differ (for the detail of status_mismatch)."""
    if type(a) is dict and type(b) is dict:
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k} present on one side only"
            d = status_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if type(a) is list and type(b) is list:
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := status_diff(x, y, f"{path}[{i}]"))), None)
    return None if jcs(a) == jcs(b) else f"{path}: computed {jcs(a).decode()} vs given {jcs(b).decode()}"


def verify(log, status_at=None, status_file=None, checkpoint=None, key=None, inclusion=None,
           consistency=None, old_root=None, new_root=None, print_status=None, strict_keys=False):
    """Verify export bytes (and optional artifacts, all as bytes/str). Returns (result dict, status or None)."""
    replay, hashes, leaves_ok, prev = Replay(strict_keys), [], 0, None
    snapshots = {n for n in (status_at, print_status) if n is not None}
    projections = {}

    def result(failure=None):
        head = {"seq": replay.head["seq"], "hash": replay.head["hash"]} if replay.head else None
        if failure is None:
            return {"ok": True, "checked": leaves_ok, "head": head, "first_bad_seq": None, "problem": None,
                    "detail": f"{leaves_ok} events verified"}
        return {"ok": False, "checked": leaves_ok, "head": head, "first_bad_seq": failure.seq,
                "problem": failure.problem, "detail": failure.detail}

    try:
        if not log:
            raise Failure("truncated", "the export is empty")
        lines = log.split(b"\n")
        for lineno, raw in enumerate(lines[:-1], start=1):
            try:
                ev, h = read_event(raw, lineno)
                check_chain(ev, lineno, prev)
                replay.apply(ev, h)
            except Failure as f:
                f.seq = lineno
                raise
            hashes.append(bytes.fromhex(h))
            leaves_ok, prev = lineno, (h, ev["recorded_at"])
            if lineno in snapshots:
                projections[lineno] = replay.project()
        n = leaves_ok
        if lines[-1]:
            raise Failure("truncated", f"line {n + 1} does not end with a newline", seq=n + 1)
        for want in sorted(snapshots):
            if not 1 <= want <= n:
                raise Failure("truncated", f"status asked at seq {want} but the export has {n} events")
        if status_at is not None:
            try:
                given = strict_loads(status_file)
                same = jcs(given) == jcs(projections[status_at])
            except (ValueError, rfc8785.CanonicalizationError) as e:
                raise Failure("malformed", f"status file: {e}")
            if not same:
                raise Failure("status_mismatch", status_diff(projections[status_at], given) or "differs")
        if checkpoint is not None:
            check_checkpoint(checkpoint, key or replay.log_key, replay.origin, hashes)
        if inclusion is not None:
            check_inclusion(inclusion, replay.ledger, hashes)
        if consistency is not None:
            check_consistency(consistency, replay.ledger, hashes, old_root, new_root)
    except Failure as f:
        return result(f), projections.get(print_status)
    return result(), projections.get(print_status)


def check_checkpoint(note, vkey, origin, hashes):
    try:
        body = open_note(note, vkey)
    except ValueError as e:
        raise Failure("malformed", f"verifier key: {e}")
    cp_origin, size, root = parse_checkpoint_body(body)
    if cp_origin != parse_verifier_key(vkey)[0] or cp_origin != origin:
        raise Failure("checkpoint_mismatch", f"checkpoint origin {cp_origin!r} is not the key name / "
                                             f"ledger origin {origin!r}")
    if size > len(hashes):
        raise Failure("truncated", f"checkpoint covers {size} events, the export has {len(hashes)}")
    if merkle_root(hashes[:size]) != root:
        raise Failure("checkpoint_mismatch", f"root at size {size} recomputed from the export differs "
                                             "from the checkpoint")


def load_proof(data, fmt, ledger, int_keys):
    try:
        proof = strict_loads(data)
        ok = type(proof) is dict and proof.get("format") == fmt and proof.get("ledger") == ledger \
            and all(type(proof.get(k)) is int and proof[k] >= 0 for k in int_keys) \
            and type(proof.get("path")) is list and all(type(p) is str and HEX64_RE.fullmatch(p)
                                                        for p in proof["path"])
    except ValueError as e:
        raise Failure("malformed", f"{fmt} proof: {e}")
    if not ok:
        raise Failure("malformed", f"not a {fmt} proof for ledger {ledger!r}")
    return proof, [bytes.fromhex(p) for p in proof["path"]]


def check_inclusion(data, ledger, hashes):
    proof, path = load_proof(data, "waymark-inclusion/v1", ledger, ("seq", "tree_size"))
    seq, size = proof["seq"], proof["tree_size"]
    if type(proof.get("leaf_hash")) is not str or not HEX64_RE.fullmatch(proof["leaf_hash"]):
        raise Failure("malformed", "inclusion proof: leaf_hash must be 64 lowercase hex digits")
    if size > len(hashes):
        raise Failure("truncated", f"inclusion proof at tree size {size}, the export has {len(hashes)}")
    if not 1 <= seq <= size or hashes[seq - 1].hex() != proof["leaf_hash"]:
        raise Failure("checkpoint_mismatch", f"inclusion proof leaf_hash is not the hash of seq {seq}", seq=None)
    if not verify_inclusion(seq - 1, size, hashes[seq - 1], path, merkle_root(hashes[:size])):
        raise Failure("checkpoint_mismatch", f"inclusion proof for seq {seq} at size {size} does not verify")


def check_consistency(data, ledger, hashes, old_root, new_root):
    proof, path = load_proof(data, "waymark-consistency/v1", ledger, ("old_size", "new_size"))
    roots = []
    for size, given, name in ((proof["old_size"], old_root, "old"), (proof["new_size"], new_root, "new")):
        if given is not None and (type(given) is not str or not HEX64_RE.fullmatch(given)):
            raise Failure("malformed", f"--{name}-root must be 64 lowercase hex digits")
        computed = merkle_root(hashes[:size]).hex() if size <= len(hashes) else None
        if computed is None and given is None:
            raise Failure("truncated", f"{name} size {size} is beyond the export ({len(hashes)} events)")
        if computed is not None and given is not None and computed != given:
            raise Failure("checkpoint_mismatch", f"--{name}-root is not the root at size {size} of the export")
        roots.append(bytes.fromhex(given or computed))
    if not verify_consistency(proof["old_size"], proof["new_size"], roots[0], roots[1], path):
        raise Failure("checkpoint_mismatch", f"consistency proof {proof['old_size']} -> {proof['new_size']} "
                                             "does not verify")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Independent Waymark ledger verifier (SPEC v1.1)")
    ap.add_argument("log")
    ap.add_argument("--status-at", type=int)
    ap.add_argument("--status")
    ap.add_argument("--checkpoint")
    ap.add_argument("--key")
    ap.add_argument("--inclusion")
    ap.add_argument("--consistency")
    ap.add_argument("--old-root")
    ap.add_argument("--new-root")
    ap.add_argument("--print-status", type=int)
    ap.add_argument("--strict-payload-keys", action="store_true",
                    help="also reject payload keys that SPEC section 5 does not list "
                         "(section 13 types always reject them)")
    args = ap.parse_args(argv)
    if (args.status_at is None) != (args.status is None):
        ap.error("--status-at and --status go together")
    if (args.old_root or args.new_root) and not args.consistency:
        ap.error("--old-root/--new-root need --consistency")
    if args.key and not args.checkpoint:
        ap.error("--key needs --checkpoint")
    if any(n is not None and n < 1 for n in (args.status_at, args.print_status)):
        ap.error("status seq must be >= 1")
    if any(r is not None and not HEX64_RE.fullmatch(r) for r in (args.old_root, args.new_root)):
        ap.error("--old-root/--new-root must be 64 lowercase hex digits")
    if args.key:
        try:
            parse_verifier_key(args.key)
        except ValueError as e:
            ap.error(f"--key: {e}")

    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as e:
            print(f"waymark_verify: cannot read {path}: {e}", file=sys.stderr)
            sys.exit(2)

    res, status = verify(read(args.log), status_at=args.status_at,
                         status_file=read(args.status) if args.status else None,
                         checkpoint=read(args.checkpoint) if args.checkpoint else None, key=args.key,
                         inclusion=read(args.inclusion) if args.inclusion else None,
                         consistency=read(args.consistency) if args.consistency else None,
                         old_root=args.old_root, new_root=args.new_root, print_status=args.print_status,
                         strict_keys=args.strict_payload_keys)
    out = jcs(res).decode()
    if args.print_status is not None and status is not None:
        sys.stdout.write(jcs(status).decode() + "\n")
        print(out, file=sys.stderr)
    else:
        print(out)
    return 0 if res["ok"] else 3


if __name__ == "__main__":
    sys.exit(main())
