"""Known-answer tests for the independent Waymark verifier (run: python3 -m unittest discover -s tests/independent).

Vectors: $WAYMARK_VECTORS if set, else <repo>/tests/vectors.
"""
import base64
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import waymark_verify as wv  # noqa: E402

REPO = HERE.parent.parent


def vectors_dir():
    if os.environ.get("WAYMARK_VECTORS"):
        return Path(os.environ["WAYMARK_VECTORS"])
    return REPO / "tests" / "vectors"


VEC = vectors_dir()
V = json.loads((VEC / "vectors.json").read_text(encoding="utf-8"))
EXPORT = (VEC / "export.jsonl").read_bytes()
CHECKPOINT = (VEC / "checkpoint.txt").read_bytes()
HASHES = [bytes.fromhex(e["hash"]) for e in V["events"]]
LEDGER = V["events"][0]["event"]["ledger"]


def secret(name, seed_hex=None):
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex or V["keys"][name]["secret_seed_hex"]))


def pub_b64(sk):
    return base64.b64encode(sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def sign(sk, statement):
    return base64.b64encode(sk.sign(wv.SIG_PREFIX + wv.jcs(statement))).decode()


class Chain:
    """Builds a fresh export on top of the vector events, signing with the vector seeds."""

    def __init__(self, upto=4):
        self.events = [copy.deepcopy(e["event"]) for e in V["events"][:upto]]
        self.keys = {"alice": secret("alice"), "bob": secret("bob")}

    def head_hash(self):
        return wv.leaf_hash(wv.jcs(self.events[-1])).hex() if self.events else "0" * 64

    def add(self, actor, etype, payload, key=None, **override):
        n = len(self.events) + 1
        st = {"ledger": LEDGER, "type": etype, "version": "1", "actor": actor,
              "issued_at": f"2026-11-22T11:{n // 60:02d}:{n % 60:02d}.000000Z", "payload": payload}
        ev = dict(st, seq=n, prev=self.head_hash(), recorded_at=f"2026-11-22T11:{n // 60:02d}:{n % 60:02d}.500000Z")
        ev.update({k: v for k, v in override.items() if k != "sig"})
        ev["sig"] = override.get("sig") or sign(key or self.keys[actor], {k: ev[k] for k in wv.STATEMENT_KEYS})
        self.events.append(ev)
        return self

    def fork(self):
        other = Chain(0)
        other.events, other.keys = copy.deepcopy(self.events), dict(self.keys)
        return other

    def export(self):
        return b"".join(wv.jcs(dict(e, hash=wv.leaf_hash(wv.jcs(e)).hex())) + b"\n" for e in self.events)

    def verify(self, **kw):
        return wv.verify(self.export(), **kw)[0]


def defined(mid, deps=(), phase="A"):
    return {"id": mid, "title": mid, "layer": "technical", "phase": phase, "description": "d",
            "principles": [], "depends_on": list(deps)}


def status(mid, frm, to, evidence=("https://example.org/e",)):
    return {"id": mid, "from": frm, "to": to, "reason": "r", "evidence": list(evidence)}


class TimeGrammar(unittest.TestCase):
    """SPEC v1.1 section 2, on the table the Rust recorder and verifiers read too."""

    def test_the_shared_table(self):
        table = json.loads((REPO / "tests" / "vectors" / "time-grammar.json").read_text())
        for kind, valid in (("timestamps", wv.valid_timestamp), ("dates", wv.valid_date)):
            self.assertTrue(table[kind]["good"] and table[kind]["bad"])
            for s in table[kind]["good"]:
                self.assertTrue(valid(s), f"{kind}: {s!r} must be accepted")
            for s in table[kind]["bad"]:
                self.assertFalse(valid(s), f"{kind}: {s!r} must be refused")


class KnownAnswers(unittest.TestCase):
    def test_export_is_the_vector_events(self):
        lines = EXPORT.split(b"\n")
        self.assertEqual(lines[-1], b"")
        for line, e in zip(lines, V["events"], strict=False):
            self.assertEqual(line, wv.jcs(dict(e["event"], hash=e["hash"])))

    def test_signed_bytes_leaf_bytes_hash(self):
        for e in V["events"]:
            ev = e["event"]
            statement = {k: ev[k] for k in wv.STATEMENT_KEYS}
            self.assertEqual(wv.SIG_PREFIX + wv.jcs(statement), base64.b64decode(e["signed_bytes_b64"]))
            self.assertEqual(wv.jcs(ev), base64.b64decode(e["leaf_bytes_b64"]))
            self.assertEqual(wv.leaf_hash(wv.jcs(ev)).hex(), e["hash"])

    def test_fresh_signatures_match_byte_for_byte(self):
        for name in ("alice", "bob"):
            self.assertEqual(pub_b64(secret(name)), V["keys"][name]["public_key"])
        for e in V["events"]:
            ev = e["event"]
            sig = sign(secret(ev["actor"]), {k: ev[k] for k in wv.STATEMENT_KEYS})
            self.assertEqual(sig, ev["sig"])

    def test_log_key_and_checkpoint_signature_reproduced(self):
        sk = secret("log")
        pub = base64.b64decode(pub_b64(sk))
        name = "waymark.example/optimism"
        vkey = verifier_key(name, pub)
        self.assertEqual(vkey, V["keys"]["log"]["verifier_key"])
        body = f"{name}\n4\n{base64.b64encode(bytes.fromhex(V['roots']['4'])).decode()}\n"
        sig = base64.b64encode(wv.key_id(name, pub) + sk.sign(body.encode())).decode()
        note = f"{body}\n\u2014 {name} {sig}\n".encode()
        self.assertEqual(note, CHECKPOINT)
        self.assertEqual(note.decode(), V["checkpoint"])

    def test_roots(self):
        for n in range(1, 5):
            self.assertEqual(wv.merkle_root(HASHES[:n]).hex(), V["roots"][str(n)])

    def test_inclusion_proofs(self):
        for key, path in V["proofs"]["inclusion"].items():
            seq, size = map(int, key.split("@"))
            root, p = bytes.fromhex(V["roots"][str(size)]), [bytes.fromhex(h) for h in path]
            self.assertTrue(wv.verify_inclusion(seq - 1, size, HASHES[seq - 1], p, root), key)
            self.assertFalse(wv.verify_inclusion(seq - 1, size, flip(HASHES[seq - 1]), p, root), key)
            for i in range(len(p)):
                bad = p[:i] + [flip(p[i], i)] + p[i + 1:]
                self.assertFalse(wv.verify_inclusion(seq - 1, size, HASHES[seq - 1], bad, root), key)
            self.assertFalse(wv.verify_inclusion(seq - 1, size, HASHES[seq - 1], p + [HASHES[0]], root), key)
            res = verify_files(inclusion={"format": "waymark-inclusion/v1", "ledger": LEDGER, "seq": seq,
                                          "tree_size": size, "leaf_hash": HASHES[seq - 1].hex(), "path": path})
            self.assertTrue(res["ok"], (key, res))
            if path:
                res = verify_files(inclusion={"format": "waymark-inclusion/v1", "ledger": LEDGER, "seq": seq,
                                              "tree_size": size, "leaf_hash": HASHES[seq - 1].hex(),
                                              "path": [flip(bytes.fromhex(path[0]), 7).hex()] + path[1:]})
                self.assertEqual(res["problem"], "checkpoint_mismatch", key)

    def test_consistency_proofs(self):
        for key, path in V["proofs"]["consistency"].items():
            old, new = map(int, key.split("->"))
            r1, r2 = (bytes.fromhex(V["roots"][str(k)]) for k in (old, new))
            p = [bytes.fromhex(h) for h in path]
            self.assertTrue(wv.verify_consistency(old, new, r1, r2, p), key)
            self.assertFalse(wv.verify_consistency(old, new, flip(r1), r2, p), key)
            self.assertFalse(wv.verify_consistency(old, new, r1, flip(r2), p), key)
            for i in range(len(p)):
                self.assertFalse(wv.verify_consistency(old, new, r1, r2, p[:i] + [flip(p[i], 3)] + p[i + 1:]), key)
            proof = {"format": "waymark-consistency/v1", "ledger": LEDGER, "old_size": old, "new_size": new,
                     "path": path}
            self.assertTrue(verify_files(consistency=proof)["ok"], key)
            self.assertTrue(verify_files(consistency=proof, old_root=r1.hex(), new_root=r2.hex())["ok"], key)
            self.assertEqual(verify_files(consistency=proof, old_root=flip(r1).hex())["problem"],
                             "checkpoint_mismatch", key)
            if path:
                bad = dict(proof)
                bad["path"] = path[:-1] + [flip(bytes.fromhex(path[-1]), 200).hex()]
                self.assertEqual(verify_files(consistency=bad)["problem"], "checkpoint_mismatch", key)

    def test_merkle_proofs_on_larger_trees(self):
        """Proofs built from the RFC 9162 PATH / PROOF definitions verify; mutated ones do not."""
        leaves = [wv.leaf_hash(str(i).encode()) for i in range(40)]
        for key, path in V["proofs"]["inclusion"].items():
            seq, size = map(int, key.split("@"))
            self.assertEqual([h.hex() for h in rfc_path(seq - 1, HASHES[:size])], path)
        for key, path in V["proofs"]["consistency"].items():
            old, new = map(int, key.split("->"))
            self.assertEqual([h.hex() for h in rfc_proof(old, HASHES[:new])], path)
        for n in range(1, 41):
            root = wv.merkle_root(leaves[:n])
            for m in range(n):
                p = rfc_path(m, leaves[:n])
                self.assertTrue(wv.verify_inclusion(m, n, leaves[m], p, root), (m, n))
                self.assertFalse(wv.verify_inclusion(m, n, flip(leaves[m]), p, root), (m, n))
                self.assertFalse(wv.verify_inclusion(m, n, leaves[m], p + [root], root), (m, n))
                for i in range(len(p)):
                    self.assertFalse(wv.verify_inclusion(m, n, leaves[m], p[:i] + [flip(p[i])] + p[i + 1:], root))
            for m in range(1, n + 1):
                p, old = rfc_proof(m, leaves[:n]), wv.merkle_root(leaves[:m])
                self.assertTrue(wv.verify_consistency(m, n, old, root, p), (m, n))
                self.assertFalse(wv.verify_consistency(m, n, root if m != n else flip(old), old, p), (m, n))
                for i in range(len(p)):
                    self.assertFalse(wv.verify_consistency(m, n, old, root, p[:i] + [flip(p[i])] + p[i + 1:]))

    def test_checkpoint(self):
        vkey = V["keys"]["log"]["verifier_key"]
        self.assertTrue(wv.verify(EXPORT, checkpoint=CHECKPOINT, key=vkey)[0]["ok"])
        self.assertTrue(wv.verify(EXPORT, checkpoint=CHECKPOINT)[0]["ok"])      # log_key from LedgerOpened
        for i in range(len(CHECKPOINT)):
            res = wv.verify(EXPORT, checkpoint=CHECKPOINT[:i] + bytes([CHECKPOINT[i] ^ 1]) + CHECKPOINT[i + 1:])[0]
            self.assertFalse(res["ok"], i)
        other = secret("x", "04" * 32)
        pub = base64.b64decode(pub_b64(other))
        name = "waymark.example/optimism"
        wrong = verifier_key(name, pub)
        self.assertEqual(wv.verify(EXPORT, checkpoint=CHECKPOINT, key=wrong)[0]["problem"], "checkpoint_mismatch")
        prefix = EXPORT[:EXPORT.rindex(b"\n", 0, -1) + 1]                     # three events: dropped the newest
        self.assertTrue(wv.verify(prefix)[0]["ok"])
        self.assertEqual(wv.verify(prefix, checkpoint=CHECKPOINT)[0]["problem"], "truncated")

    def test_status(self):
        for n in range(1, 5):
            computed = wv.verify(EXPORT, print_status=n)[1]
            self.assertEqual(wv.jcs(computed), wv.jcs(V["status"][str(n)]), n)
            res = wv.verify(EXPORT, status_at=n, status_file=json.dumps(V["status"][str(n)]).encode())[0]
            self.assertTrue(res["ok"], res)
            wrong = copy.deepcopy(V["status"][str(n)])
            wrong["layers"][0]["progress"][1]["total"] += 1
            res = wv.verify(EXPORT, status_at=n, status_file=json.dumps(wrong).encode())[0]
            self.assertEqual(res["problem"], "status_mismatch")

    def test_every_single_byte_change_fails(self):
        self.assertTrue(wv.verify(EXPORT)[0]["ok"])
        for i, b in enumerate(EXPORT):
            for new in {b ^ 0x01, b ^ 0x20, b ^ 0x80, 0x30 if b != 0x30 else 0x31}:
                res = wv.verify(EXPORT[:i] + bytes([new]) + EXPORT[i + 1:])[0]
                self.assertFalse(res["ok"], (i, new))
                self.assertIn(res["problem"], wv.PROBLEMS)
                self.assertIsInstance(res["first_bad_seq"], int)

    def test_cli(self):
        ok = run_cli(str(VEC / "export.jsonl"), "--checkpoint", str(VEC / "checkpoint.txt"),
                     "--key", V["keys"]["log"]["verifier_key"])
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(json.loads(ok.stdout)["head"], {"seq": 4, "hash": V["events"][3]["hash"]})
        with tempfile.TemporaryDirectory() as d:
            bad = Path(d) / "bad.jsonl"
            bad.write_bytes(EXPORT.replace(b"T-A1", b"T-A2", 1))
            res = run_cli(str(bad))
            self.assertEqual(res.returncode, 3)
            self.assertEqual(json.loads(res.stdout)["first_bad_seq"], 2)
            self.assertNotIn("Traceback", res.stderr)
            st = Path(d) / "status.json"
            st.write_text(json.dumps(V["status"]["3"]))
            self.assertEqual(run_cli(str(VEC / "export.jsonl"), "--status-at", "3", "--status", str(st)).returncode, 0)
            printed = run_cli(str(VEC / "export.jsonl"), "--print-status", "2")
            self.assertEqual(printed.stdout.encode().rstrip(b"\n"), wv.jcs(V["status"]["2"]))
        self.assertEqual(run_cli(str(VEC / "export.jsonl"), "--status-at", "3").returncode, 2)
        self.assertEqual(run_cli(str(VEC / "nonexistent.jsonl")).returncode, 2)


class Rules(unittest.TestCase):
    def check(self, chain, problem, seq=None):
        res = chain.verify()
        self.assertEqual((res["problem"], res["first_bad_seq"]), (problem, seq or len(chain.events)), res)

    def test_valid_extension_and_projection(self):
        c = Chain().add("alice", "MilestoneDefined", defined("T-B1", ["T-A1"], "B"))
        c.add("alice", "MilestoneDefined", defined("T-B2", ["T-B1"], "B"))
        c.add("alice", "PhaseTransitioned", {"layer": "technical", "from": "A", "to": "B", "reason": "done"})
        c.add("alice", "SeasonOpened", {"season": 7, "starts_on": "2026-01-01", "intent": "i", "focus": ["T-B1"]})
        c.add("bob", "MilestoneStatusChanged", status("T-B1", "not_started", "achieved"))
        c.add("bob", "MilestoneStatusChanged", status("T-B1", "achieved", "in_progress", []))
        c.add("alice", "MilestoneDefined", defined("T-B3", phase="B")).add("alice", "MilestoneRetired",
                                                                          {"id": "T-B3", "reason": "dup"})
        res, st = wv.verify(c.export(), print_status=len(c.events))
        self.assertTrue(res["ok"], res)
        self.assertEqual(st["overall_phase"], "B")
        self.assertEqual(st["layers"][0]["progress"], [{"phase": "A", "achieved": 1, "total": 1},
                                                       {"phase": "B", "achieved": 0, "total": 2}])
        b1, b2, b3 = st["milestones"][1:]
        self.assertEqual((b1["focus"], b1["regressed"], b1["status"]), (True, True, "in_progress"))
        self.assertEqual((b2["blocked_by"], b2["focus"], b3["retired"]), (["T-B1"], False, True))
        self.assertEqual(st["season"], {"number": 7, "state": "open", "starts_on": "2026-01-01", "ends_on": None,
                                        "focus": ["T-B1"]})
        c.add("alice", "SeasonReEvaluated", {"season": 7, "ends_on": "2026-03-01", "summary": "s", "assessments": []})
        st = wv.verify(c.export(), print_status=len(c.events))[1]
        self.assertEqual((st["season"]["state"], st["milestones"][1]["focus"]), ("closed", False))
        self.check(Chain().add("alice", "SeasonOpened", {"season": 9, "starts_on": "2026-01-01", "intent": "i",
                                                         "focus": ["nope"]}), "rule_violation")

    def test_rule_violations(self):
        rv = "rule_violation"
        self.check(Chain().add("bob", "MilestoneDefined", defined("X")), rv)                       # role
        self.check(Chain().add("carol", "MilestoneDefined", defined("X"), key=secret("c", "05" * 32)),
                   "unknown_actor")
        self.check(Chain().add("alice", "MilestoneDefined", defined("T-A1")), rv)                  # duplicate id
        self.check(Chain().add("alice", "MilestoneDefined", defined("-bad")), rv)                  # id regex
        self.check(Chain().add("alice", "MilestoneDefined", defined("X", ["nope"])), rv)           # unknown dep
        self.check(Chain().add("alice", "MilestoneDefined", dict(defined("X"), phase="C")), rv)    # phase
        self.check(Chain(3).add("bob", "MilestoneStatusChanged", status("T-A1", "not_started", "achieved", [])), rv)
        self.check(Chain(3).add("bob", "MilestoneStatusChanged", status("T-A1", "in_progress", "achieved")), rv)
        self.check(Chain(3).add("bob", "MilestoneStatusChanged",
                                status("T-A1", "not_started", "achieved", ["ftp://x"])), rv)
        self.check(Chain(3).add("bob", "MilestoneStatusChanged",
                                status("T-A1", "not_started", "in_progress", ["https://e/"] * 17)), rv)
        self.check(Chain(3).add("bob", "MilestoneStatusChanged", dict(status("T-A1", "not_started", "in_progress"),
                                                                       reason="x" * 4097)), rv)
        dep = Chain().add("alice", "MilestoneDefined", defined("X"))
        dep.add("alice", "MilestoneDefined", defined("Y", ["X"]))
        self.check(dep.fork().add("bob", "MilestoneStatusChanged", status("Y", "not_started", "achieved")), rv)
        self.check(dep.fork().add("alice", "MilestoneRevised", {"id": "X", "reason": "r", "depends_on": ["Y"]}),
                   rv)                                                                             # cycle
        self.check(dep.fork().add("alice", "MilestoneRevised", {"id": "X", "reason": "r"}), rv)
        self.check(Chain(3).add("alice", "PhaseTransitioned", {"layer": "technical", "from": "A", "to": "B",
                                                               "reason": "r"}), rv)                # blocker T-A1
        self.check(Chain().add("alice", "PhaseTransitioned", {"layer": "technical", "from": "A", "to": "A",
                                                              "reason": "r"}), rv)
        ret = Chain().add("alice", "MilestoneRetired", {"id": "T-A1", "reason": "r"})
        self.check(ret.fork().add("alice", "MilestoneRevised", {"id": "T-A1", "reason": "r", "title": "t"}), rv)
        gone = Chain().add("alice", "ActorRetired", {"actor": "bob", "reason": "r"})
        self.check(gone.add("bob", "MilestoneStatusChanged", status("T-A1", "achieved", "in_progress")), rv)
        s = Chain().add("alice", "SeasonOpened", {"season": 1, "starts_on": "2026-02-01", "intent": "i", "focus": []})
        self.check(s.fork().add("alice", "SeasonOpened", {"season": 2, "starts_on": "2026-02-01",
                                                                  "intent": "i", "focus": []}), rv)
        self.check(s.fork().add("alice", "SeasonReEvaluated", {"season": 1, "ends_on": "2026-01-01",
                                                                       "summary": "s", "assessments": []}), rv)
        closed = s.fork().add("alice", "SeasonReEvaluated", {"season": 1, "ends_on": "2026-02-01",
                                                                     "summary": "s", "assessments": []})
        self.assertTrue(closed.verify()["ok"])
        self.check(closed.add("alice", "SeasonOpened", {"season": 3, "starts_on": "2026-03-01", "intent": "i",
                                                        "focus": []}), rv)
        self.check(Chain().add("alice", "LedgerOpened", V["events"][0]["event"]["payload"]), rv)

    def test_replay_rotation_and_chain(self):
        replay = Chain()
        old = V["events"][3]["event"]
        replay.add("bob", "MilestoneStatusChanged", old["payload"], issued_at=old["issued_at"], sig=old["sig"])
        self.check(replay, "rule_violation")
        carol = secret("c", "05" * 32)
        rot = Chain().add("alice", "ActorKeyRotated", {"actor": "bob", "public_key": pub_b64(carol)})
        self.check(rot.fork().add("bob", "MilestoneStatusChanged", status("T-A1", "achieved", "in_progress")),
                   "bad_signature")
        self.assertTrue(rot.add("bob", "MilestoneStatusChanged", status("T-A1", "achieved", "in_progress"),
                                key=carol).verify()["ok"])
        self.check(Chain().add("alice", "MilestoneDefined", defined("X"), recorded_at="2026-11-22T09:00:00.000000Z"),
                   "time_regression")
        self.check(Chain().add("alice", "MilestoneDefined", defined("X"), seq=6), "seq_gap", 5)
        self.check(Chain().add("alice", "MilestoneDefined", defined("X"), prev="1" * 64), "prev_mismatch")
        self.check(Chain().add("alice", "MilestoneDefined", defined("X"), ledger="other"), "rule_violation")
        self.check(Chain().add("alice", "MilestoneDefined", defined("X"), issued_at="2026-11-22T11:00:00Z"),
                   "malformed")
        self.check(Chain().add("alice", "MilestoneDefined", dict(defined("X"), title=7)), "malformed")

    def test_strict_parsing(self):
        for bad in (b'{"a":1,"a":2}', b'{"a":1.0}', b'{"a":NaN}', b'{"a":"\xff"}', b'{"a":1e2}'):
            with self.assertRaises(ValueError):
                wv.strict_loads(bad)
        line = EXPORT.split(b"\n")[0]
        self.assertEqual(wv.verify(line.replace(b'"seq":1', b'"seq":1.0') + b"\n")[0]["problem"], "malformed")
        self.assertEqual(wv.verify(line.replace(b'{"actor"', b'{"seq":1,"actor"') + b"\n")[0]["problem"], "malformed")
        self.assertEqual(wv.verify(line.replace(b'{"actor"', b'{ "actor"') + b"\n")[0]["problem"], "malformed")
        self.assertEqual(wv.verify(EXPORT[:-1])[0], {"ok": False, "checked": 3, "first_bad_seq": 4,
                                                     "problem": "truncated", "detail": "line 4 does not end with a "
                                                     "newline", "head": {"seq": 3, "hash": V["events"][2]["hash"]}})
        self.assertEqual(wv.verify(b"")[0]["problem"], "truncated")
        self.assertEqual(wv.verify(EXPORT + b"\n")[0]["problem"], "malformed")


def split(n):
    return 1 << ((n - 1).bit_length() - 1)


def rfc_path(m, d):
    """RFC 9162 2.1.3.1 PATH(m, D[n])."""
    if len(d) <= 1:
        return []
    k = split(len(d))
    return rfc_path(m, d[:k]) + [wv.merkle_root(d[k:])] if m < k else rfc_path(m - k, d[k:]) + [wv.merkle_root(d[:k])]


def rfc_proof(m, d, b=True):
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b); PROOF(m, D[n]) = SUBPROOF(m, D[n], true)."""
    if m == len(d):
        return [] if b else [wv.merkle_root(d)]
    k = split(len(d))
    if m <= k:
        return rfc_proof(m, d[:k], b) + [wv.merkle_root(d[k:])]
    return rfc_proof(m - k, d[k:], False) + [wv.merkle_root(d[:k])]


def verifier_key(name, pub):
    return "+".join((name, wv.key_id(name, pub).hex(), base64.b64encode(b"\x01" + pub).decode()))


def flip(b, bit=0):
    return b[:bit // 8] + bytes([b[bit // 8] ^ (1 << (bit % 8))]) + b[bit // 8 + 1:]


def verify_files(inclusion=None, consistency=None, **kw):
    enc = lambda o: json.dumps(o).encode() if o is not None else None  # noqa: E731
    return wv.verify(EXPORT, inclusion=enc(inclusion), consistency=enc(consistency), **kw)[0]


def run_cli(*args):
    return subprocess.run([sys.executable, str(HERE / "waymark_verify.py"), *args], capture_output=True, text=True)


if __name__ == "__main__":
    unittest.main()
