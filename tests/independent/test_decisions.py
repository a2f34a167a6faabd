"""SPEC v1.1 section 13 (governance decisions) for the independent verifier.

Run: python3 -m unittest discover -s tests/independent

Every ledger here is built from scratch by the helpers below, straight from SPEC sections 3-4
(statement, signed bytes, event, leaf hash, chain) with fixed Ed25519 seeds; nothing is read from
the Rust side. The expected statuses are written by hand from the SPEC text (section 9 and the
section 13 additions), not copied from the verifier's output.
"""
import base64
import copy
import datetime
import hashlib
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import waymark_verify as wv  # noqa: E402

LEDGER, ORIGIN = "gov", "waymark.example/gov"
T0 = datetime.datetime(2026, 3, 1, 9, 0, 0)
URL = "https://gov.optimism.io/t/decision/1"


def key(n):
    return Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)


def raw_pub(sk):
    return sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64(b):
    return base64.b64encode(b).decode()


def verifier_key(name, pub):
    """SPEC section 6: <name>+<8 hex key id>+<base64(0x01 || public key)>."""
    kid = hashlib.sha256(name.encode() + b"\n" + b"\x01" + pub).digest()[:4]
    return "+".join((name, kid.hex(), b64(b"\x01" + pub)))


def ts(seq, frac):
    return (T0 + datetime.timedelta(seconds=seq)).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:06d}Z"


def framework():
    return {"id": "gov-fw", "version": "1", "title": "Governance test framework",
            "principles": [{"id": "p-a", "title": "Principle A"}, {"id": "p-b", "title": "Principle B"}],
            "layers": [{"id": "technical", "title": "Technical", "phases": ["A", "B"]},
                       {"id": "governance", "title": "Governance", "phases": ["A", "B", "C"]}],
            "phases": [{"id": "A", "title": "A", "description": "a"}, {"id": "B", "title": "B", "description": "b"},
                       {"id": "C", "title": "C", "description": "c"}]}


class Ledger:
    """A ledger written event by event, per SPEC sections 3 and 4, with fixed seeds."""

    def __init__(self):
        self.keys = {"alice": key(1), "bob": key(2), "carol": key(3), "dave": key(4)}
        self.events = []
        self.add("alice", "LedgerOpened", {
            "title": "Governance decisions", "origin": ORIGIN, "log_key": verifier_key(ORIGIN, raw_pub(key(9))),
            "founder": {"actor": "alice", "name": "Alice", "public_key": b64(raw_pub(self.keys["alice"]))},
            "framework": framework()})

    @staticmethod
    def leaf(ev):
        return rfc8785.dumps(ev)

    def hash(self, ev):
        return hashlib.sha256(b"\x00" + self.leaf(ev)).hexdigest()

    def add(self, actor, etype, payload, **override):
        seq = len(self.events) + 1
        statement = {"ledger": LEDGER, "type": etype, "version": "1", "actor": actor,
                     "issued_at": ts(seq, 0), "payload": payload}
        statement.update({k: v for k, v in override.items() if k in statement})
        sig = override.get("sig") or b64(self.keys[actor].sign(b"waymark-statement/v1\n" + rfc8785.dumps(statement)))
        ev = dict(statement, seq=seq, prev=self.hash(self.events[-1]) if self.events else "0" * 64,
                  recorded_at=ts(seq, 500000), sig=sig)
        self.events.append(ev)
        return self

    def fork(self):
        other = copy.copy(self)
        other.events = copy.deepcopy(self.events)
        return other

    @property
    def seq(self):
        return len(self.events)

    def export(self):
        return b"".join(rfc8785.dumps(dict(ev, hash=self.hash(ev))) + b"\n" for ev in self.events)

    def verify(self, **kw):
        return wv.verify(self.export(), **kw)

    def change(self, seq):
        ev = self.events[seq - 1]
        return {"seq": seq, "actor": ev["actor"], "recorded_at": ev["recorded_at"]}


def design(deciders, process="vote", proposers=(), executors=(), vetoes=(), **extra):
    """A design; vetoes are body ids or (body, bps) pairs. Lists are kept in the given order."""
    d = {"proposers": list(proposers), "deciders": list(deciders), "process": process,
         "vetoes": [{"body": v} if isinstance(v, str) else {"body": v[0], "threshold_bps": v[1]} for v in vetoes],
         "executors": list(executors)}
    d.update(extra)
    return d


def body(bid, kind="council", title=None, **extra):
    return dict({"id": bid, "title": title or bid, "kind": kind, "description": f"the {bid}"}, **extra)


def decision(did, current, target=None, milestones=(), principles=("p-a",), profile=None, layer="governance",
             **extra):
    p = {"id": did, "title": did, "description": f"the {did} module", "layer": layer,
         "principles": list(principles), "profile": {} if profile is None else profile, "current": current,
         "milestones": list(milestones)}
    if target is not None:
        p["target"] = target
    p.update(extra)
    return p


def transfer(did, frm, to, evidence=(URL,), reason="vote passed", effective_on="2026-02-14"):
    return {"decision": did, "from": frm, "to": to, "reason": reason, "evidence": list(evidence),
            "effective_on": effective_on}


def milestone(mid, layer="governance", phase="A"):
    return {"id": mid, "title": mid, "layer": layer, "phase": phase, "description": "d", "principles": [],
            "depends_on": []}


# The designs of the valid ledger.
PU_CURRENT = design(["foundation"], "discretion", proposers=["foundation"], executors=["foundation"])
PU_STEP = design(["foundation", "token-house"], "vote", proposers=["foundation"], executors=["foundation"],
                 vetoes=[("citizens-house", 3000)], threshold_bps=7600)
PU_TARGET = design(["token-house"], "vote", proposers=["foundation"], executors=["foundation"],
                   vetoes=[("citizens-house", 3000)], threshold_bps=7600, quorum_bps=3000)
GR_CURRENT = design(["token-house"], "vote", executors=["foundation"], vetoes=["security-council"],
                    threshold_bps=5000)
GR_TARGET = design(["citizens-house", "token-house"], "vote", executors=["foundation"])
SC_CURRENT = design(["foundation"], "appointment", executors=["security-council"])
MS_CURRENT = design(["security-council"], "multisig", executors=["security-council"], signers={"m": 10, "n": 13})


def base():
    """Actors, milestones, five bodies (one revised, one retired) and three decisions; valid. Ends at seq 16."""
    lg = Ledger()
    lg.add("alice", "ActorRegistered", {"actor": "bob", "name": "Bob", "roles": ["reviewer"],
                                        "public_key": b64(raw_pub(lg.keys["bob"]))})               # 2
    lg.add("alice", "ActorRegistered", {"actor": "carol", "name": "Carol", "roles": ["reporter"],
                                        "public_key": b64(raw_pub(lg.keys["carol"]))})             # 3
    lg.add("alice", "MilestoneDefined", milestone("G-1"))                                           # 4
    lg.add("alice", "MilestoneDefined", milestone("G-2", phase="B"))                                # 5
    lg.add("alice", "BodyDefined", body("foundation", "foundation", "Optimism Foundation",
                                        charter="https://optimism.io/foundation"))                  # 6
    lg.add("alice", "BodyDefined", body("token-house", "house", "Token House"))                     # 7
    lg.add("alice", "BodyDefined", body("citizens-house", "house", "Citizens' House"))              # 8
    lg.add("alice", "BodyDefined", body("security-council", "council", "Security Council"))         # 9
    lg.add("alice", "BodyDefined", body("old-committee", "commission", "Old Committee"))            # 10
    lg.add("alice", "BodyRevised", {"id": "token-house", "reason": "renamed", "title": "The Token House"})  # 11
    lg.add("alice", "BodyRetired", {"id": "old-committee", "reason": "dissolved"})                 # 12
    lg.add("alice", "DecisionDefined", decision(
        "protocol-upgrades", PU_CURRENT, PU_TARGET, ["G-1", "G-2"], ["p-a", "p-b"],
        {"cadence": "seasonal", "stakes": "high", "complexity": "multi", "answer": "judgement",
         "space": "concave", "leverage": 5}, source="https://gov.optimism.io/t/gdd"))                # 13
    lg.add("alice", "DecisionDefined", decision("grants", GR_CURRENT, principles=[]))               # 14
    lg.add("alice", "DecisionDefined", decision("sc-elections", SC_CURRENT, layer="technical",
                                                profile={"leverage": 12}))                          # 15
    lg.add("alice", "MilestoneRetired", {"id": "G-2", "reason": "merged"})                          # 16
    return lg


def full():
    """base() and then transfers, hypotheses and a revision; valid. Ends at seq 24."""
    lg = base()
    lg.add("bob", "AuthorityTransferred", transfer("protocol-upgrades", PU_CURRENT, PU_STEP))       # 17
    lg.add("alice", "AuthorityTransferred", transfer("protocol-upgrades", PU_STEP, PU_TARGET,
                                                     [URL, "http://example.org/vote"]))             # 18
    lg.add("bob", "HypothesisStated", {"decision": "protocol-upgrades", "id": "h1",
                                       "statement": "faster upgrades", "measure": "days to ship"})  # 19
    lg.add("alice", "HypothesisStated", {"decision": "protocol-upgrades", "id": "h0",
                                         "statement": "fewer incidents", "measure": "incidents"})   # 20
    lg.add("bob", "HypothesisConcluded", {"decision": "protocol-upgrades", "id": "h1", "outcome": "supported",
                                          "note": "shipped in 3 days", "evidence": [URL]})          # 21
    lg.add("bob", "HypothesisStated", {"decision": "grants", "id": "h1", "statement": "s", "measure": "m"})  # 22
    lg.add("alice", "DecisionRevised", {"id": "grants", "reason": "end state agreed", "title": "Grants Council",
                                        "target": GR_TARGET, "milestones": ["G-1"]})                # 23
    lg.add("alice", "BodyDefined", body("multisig-13", "multisig"))                                 # 24
    lg.add("alice", "DecisionDefined", decision("upgrade-keys", MS_CURRENT, MS_CURRENT))            # 25
    return lg


class Valid(unittest.TestCase):
    def test_full_ledger_verifies(self):
        lg = full()
        res, _ = lg.verify()
        self.assertEqual(res, {"ok": True, "checked": 25, "head": {"seq": 25, "hash": lg.hash(lg.events[-1])},
                               "first_bad_seq": None, "problem": None, "detail": "25 events verified"})

    def test_variants_that_are_allowed(self):
        lg = base()
        ok = [
            ("BodyDefined", body("grants", "board")),               # three namespaces: a body may share
            ("BodyDefined", body("G-1", "board")),                  # a decision's or a milestone's id,
            ("DecisionDefined", decision("token-house", PU_CURRENT)),  # a decision a body's
            ("DecisionDefined", decision("paused", design([], "suspended"))),
            ("DecisionDefined", decision("paused2", design(["foundation"], "suspended"))),
            ("DecisionDefined", decision("limits", design(["foundation"], signers={"m": 1000, "n": 1000},
                                                          threshold_bps=10000, quorum_bps=1,
                                                          vetoes=[("citizens-house", 1), ("token-house", 10000)]))),
            ("DecisionDefined", decision("G-1", PU_CURRENT, profile={"leverage": 1})),
            ("BodyDefined", body("x-body", "other", charter="http://example.org/charter")),
            ("BodyRevised", {"id": "x-body", "reason": "", "description": "more"}),
            ("BodyRetired", {"id": "x-body", "reason": "r"}),
        ]
        for etype, payload in ok:
            lg.add("alice", etype, payload)
            res = lg.verify()[0]
            self.assertTrue(res["ok"], (etype, payload, res))
        # both sides of the same vote: a body may decide and veto at once (nothing forbids it)
        lg.add("alice", "DecisionDefined", decision("both", design(["foundation"], vetoes=["foundation"])))
        self.assertTrue(lg.verify()[0]["ok"])
        # a transfer to a suspended, decider-less design, signed by a reviewer, then back
        lg.add("bob", "AuthorityTransferred", transfer("grants", GR_CURRENT, design([], "suspended")))
        lg.add("bob", "AuthorityTransferred", transfer("grants", design([], "suspended"), GR_CURRENT))
        self.assertTrue(lg.verify()[0]["ok"])
        # a body named by nothing any more after a transfer away from it can be retired
        lg.add("alice", "AuthorityTransferred", transfer("sc-elections", SC_CURRENT,
                                                         design(["token-house"], executors=["foundation"])))
        lg.add("alice", "BodyRetired", {"id": "security-council", "reason": "r"})
        self.assertEqual(lg.verify()[0]["problem"], "rule_violation")           # still a veto in grants
        lg.events.pop()
        lg.add("alice", "AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET))
        lg.add("alice", "BodyRetired", {"id": "security-council", "reason": "r"})
        self.assertTrue(lg.verify()[0]["ok"], lg.verify()[0])


def expected_full_status(lg):
    """Hand-derived from SPEC sections 9 and 13 for full(): see the comments on each value."""
    head = lg.events[-1]
    return {
        "ledger": LEDGER,
        "as_of": {"seq": 25, "hash": lg.hash(head), "recorded_at": head["recorded_at"]},
        # governance is in A, technical in A: the earliest in framework order is A
        "overall_phase": "A",
        "layers": [
            {"id": "technical", "title": "Technical", "phase": "A",
             "progress": [{"phase": "A", "achieved": 0, "total": 0}, {"phase": "B", "achieved": 0, "total": 0}]},
            # G-2 (phase B) is retired, so it is not counted
            {"id": "governance", "title": "Governance", "phase": "A",
             "progress": [{"phase": "A", "achieved": 0, "total": 1}, {"phase": "B", "achieved": 0, "total": 0},
                          {"phase": "C", "achieved": 0, "total": 0}]}],
        "milestones": [
            {"id": "G-1", "title": "G-1", "layer": "governance", "phase": "A", "status": "not_started",
             "depends_on": [], "blocked_by": [], "focus": False, "regressed": False, "retired": False,
             "last_change": lg.change(4)},
            {"id": "G-2", "title": "G-2", "layer": "governance", "phase": "B", "status": "not_started",
             "depends_on": [], "blocked_by": [], "focus": False, "regressed": False, "retired": True,
             "last_change": lg.change(16)}],
        "season": None,
        # bodies sorted by id; decides / vetoes read the *current* designs only:
        #   protocol-upgrades current = PU_TARGET: deciders token-house, veto citizens-house
        #   grants current = GR_CURRENT (its new target does not count): deciders token-house, veto security-council
        #   sc-elections current = SC_CURRENT: deciders foundation
        #   upgrade-keys current = MS_CURRENT: deciders security-council
        "bodies": [
            {"id": "citizens-house", "title": "Citizens' House", "kind": "house", "retired": False,
             "decides": [], "vetoes": ["protocol-upgrades"]},
            {"id": "foundation", "title": "Optimism Foundation", "kind": "foundation", "retired": False,
             "decides": ["sc-elections"], "vetoes": []},
            {"id": "multisig-13", "title": "multisig-13", "kind": "multisig", "retired": False,
             "decides": [], "vetoes": []},
            {"id": "old-committee", "title": "Old Committee", "kind": "commission", "retired": True,
             "decides": [], "vetoes": []},
            {"id": "security-council", "title": "Security Council", "kind": "council", "retired": False,
             "decides": ["upgrade-keys"], "vetoes": ["grants"]},
            # revised title (seq 11)
            {"id": "token-house", "title": "The Token House", "kind": "house", "retired": False,
             "decides": ["grants", "protocol-upgrades"], "vetoes": []}],
        "decisions": [
            # revised at seq 23: title, target, milestones; current unchanged; its hypothesis h1 is open
            {"id": "grants", "title": "Grants Council", "layer": "governance",
             "current": {"proposers": [], "deciders": ["token-house"], "process": "vote", "threshold_bps": 5000,
                         "vetoes": [{"body": "security-council"}], "executors": ["foundation"]},
             "target": {"proposers": [], "deciders": ["citizens-house", "token-house"], "process": "vote",
                        "vetoes": [], "executors": ["foundation"]},
             "at_target": False, "foundation_decides": False, "milestones": ["G-1"],
             "hypotheses": [{"id": "h1", "outcome": None}], "last_change": lg.change(23)},
            # two transfers (17, 18) reach the target; h0 stated at 20 is open, h1 concluded at 21
            {"id": "protocol-upgrades", "title": "protocol-upgrades", "layer": "governance",
             "current": {"proposers": ["foundation"], "deciders": ["token-house"], "process": "vote",
                         "threshold_bps": 7600, "quorum_bps": 3000,
                         "vetoes": [{"body": "citizens-house", "threshold_bps": 3000}], "executors": ["foundation"]},
             "target": {"proposers": ["foundation"], "deciders": ["token-house"], "process": "vote",
                        "threshold_bps": 7600, "quorum_bps": 3000,
                        "vetoes": [{"body": "citizens-house", "threshold_bps": 3000}], "executors": ["foundation"]},
             "at_target": True, "foundation_decides": False, "milestones": ["G-1", "G-2"],
             "hypotheses": [{"id": "h0", "outcome": None}, {"id": "h1", "outcome": "supported"}],
             "last_change": lg.change(21)},
            # no target: null, never at target; the foundation decides
            {"id": "sc-elections", "title": "sc-elections", "layer": "technical",
             "current": {"proposers": [], "deciders": ["foundation"], "process": "appointment", "vetoes": [],
                         "executors": ["security-council"]},
             "target": None, "at_target": False, "foundation_decides": True, "milestones": [], "hypotheses": [],
             "last_change": lg.change(15)},
            # defined with target equal to current: at target from the start
            {"id": "upgrade-keys", "title": "upgrade-keys", "layer": "governance",
             "current": {"proposers": [], "deciders": ["security-council"], "process": "multisig",
                         "signers": {"m": 10, "n": 13}, "vetoes": [], "executors": ["security-council"]},
             "target": {"proposers": [], "deciders": ["security-council"], "process": "multisig",
                        "signers": {"m": 10, "n": 13}, "vetoes": [], "executors": ["security-council"]},
             "at_target": True, "foundation_decides": False, "milestones": [], "hypotheses": [],
             "last_change": lg.change(25)}],
        "authority": {"decisions": 4, "at_target": 2, "foundation_decides": 1},
    }


class Status(unittest.TestCase):
    def test_full_status(self):
        lg = full()
        want = expected_full_status(lg)
        res, got = lg.verify(print_status=25)
        self.assertTrue(res["ok"], res)
        self.assertEqual(got, want)
        self.assertEqual(rfc8785.dumps(got), rfc8785.dumps(want))
        res = lg.verify(status_at=25, status_file=json.dumps(want).encode())[0]
        self.assertTrue(res["ok"], res)

    def test_status_at_earlier_points(self):
        lg = full()
        # before any BodyDefined: exactly section 9's keys, no additions
        st = lg.verify(print_status=5)[1]
        self.assertEqual(sorted(st), ["as_of", "layers", "ledger", "milestones", "overall_phase", "season"])
        # one body, no decision: the additions are there, with nothing decided
        st = lg.verify(print_status=6)[1]
        self.assertEqual(st["bodies"], [{"id": "foundation", "title": "Optimism Foundation", "kind": "foundation",
                                         "retired": False, "decides": [], "vetoes": []}])
        self.assertEqual((st["decisions"], st["authority"]),
                         ([], {"decisions": 0, "at_target": 0, "foundation_decides": 0}))
        # after the first transfer (seq 17): foundation and token-house jointly decide protocol-upgrades
        st = lg.verify(print_status=17)[1]
        pu = st["decisions"][1]
        self.assertEqual((pu["id"], pu["current"], pu["at_target"], pu["foundation_decides"], pu["last_change"]),
                         ("protocol-upgrades", PU_STEP, False, True, lg.change(17)))
        self.assertEqual([(b["id"], b["decides"], b["vetoes"]) for b in st["bodies"]],
                         [("citizens-house", [], ["protocol-upgrades"]),
                          ("foundation", ["protocol-upgrades", "sc-elections"], []),
                          ("old-committee", [], []), ("security-council", [], ["grants"]),
                          ("token-house", ["grants", "protocol-upgrades"], [])])
        self.assertEqual(st["authority"], {"decisions": 3, "at_target": 0, "foundation_decides": 2})
        # at seq 15, before any transfer: the foundation decides protocol-upgrades and sc-elections
        st = lg.verify(print_status=15)[1]
        self.assertEqual(st["authority"], {"decisions": 3, "at_target": 0, "foundation_decides": 2})
        self.assertEqual(st["decisions"][1]["milestones"], ["G-1", "G-2"])
        self.assertIsNone(st["decisions"][0]["target"])

    def test_status_mismatches(self):
        lg = full()
        want = expected_full_status(lg)
        for mutate in (lambda s: s.pop("authority"),
                       lambda s: s["authority"].update(at_target=1),
                       lambda s: s["decisions"][0].update(target=None),
                       lambda s: s["decisions"][1]["hypotheses"][0].update(outcome="refuted"),
                       lambda s: s["bodies"][0]["vetoes"].clear(),
                       lambda s: s["decisions"][2].pop("target"),
                       lambda s: s.update(extra=[])):
            wrong = copy.deepcopy(want)
            mutate(wrong)
            res = lg.verify(status_at=25, status_file=json.dumps(wrong).encode())[0]
            self.assertEqual((res["problem"], res["first_bad_seq"]), ("status_mismatch", None), res)
        # a v1 status (no additions) for a ledger that has bodies is a mismatch too
        v1 = {k: v for k, v in want.items() if k not in ("bodies", "decisions", "authority")}
        self.assertEqual(lg.verify(status_at=25, status_file=json.dumps(v1).encode())[0]["problem"],
                         "status_mismatch")

    def test_cli_on_an_export_with_section_13_events(self):
        lg = full()
        with tempfile.TemporaryDirectory() as d:
            log, st = Path(d) / "export.jsonl", Path(d) / "status.json"
            log.write_bytes(lg.export())
            st.write_text(json.dumps(expected_full_status(lg)))
            script = str(HERE / "waymark_verify.py")
            ok = subprocess.run([sys.executable, script, str(log), "--status-at", "25", "--status", str(st)],
                                capture_output=True, text=True)
            self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
            self.assertTrue(json.loads(ok.stdout)["ok"])
            printed = subprocess.run([sys.executable, script, str(log), "--print-status", "25"],
                                     capture_output=True)
            self.assertEqual(printed.returncode, 0)
            self.assertEqual(printed.stdout, rfc8785.dumps(expected_full_status(lg)) + b"\n")
            bad = lg.fork().add("carol", "AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET))
            log.write_bytes(bad.export())
            res = subprocess.run([sys.executable, script, str(log)], capture_output=True, text=True)
            self.assertEqual(res.returncode, 3)
            self.assertEqual((json.loads(res.stdout)["problem"], json.loads(res.stdout)["first_bad_seq"]),
                             ("rule_violation", 26))


class Failures(unittest.TestCase):
    def fails(self, lg, problem, rule=None, seq=None):
        res = lg.verify()[0]
        self.assertEqual((res["problem"], res["first_bad_seq"]), (problem, seq or lg.seq), res)
        self.assertEqual(res["checked"], (seq or lg.seq) - 1)
        if rule is not None:
            self.assertIn(f"rule {rule}", res["detail"])
        return res

    def test_rule_0_shapes(self):
        mal = "malformed"
        no_desc = body("x")
        del no_desc["description"]
        cases = [
            ("BodyDefined", no_desc),                                                   # missing key
            ("BodyDefined", body("x", colour="red")),                                   # extra key
            ("BodyDefined", body("x", charter=None)),                                   # null optional key
            ("BodyDefined", body("x", kind=7)),                                         # wrong type
            ("BodyRevised", {"id": "foundation", "reason": "r", "title": None}),
            ("BodyRetired", {"id": "foundation"}),
            ("DecisionDefined", decision("d", dict(PU_CURRENT, threshold_bps="5000"))),
            ("DecisionDefined", decision("d", dict(PU_CURRENT, threshold_bps=True))),
            ("DecisionDefined", decision("d", dict(PU_CURRENT, weight=1))),             # extra key in a design
            ("DecisionDefined", decision("d", dict(PU_CURRENT, signers={"m": 1, "n": 2, "k": 3}))),
            ("DecisionDefined", decision("d", dict(PU_CURRENT, signers={"m": 1}))),
            ("DecisionDefined", decision("d", dict(PU_CURRENT, vetoes=[{"body": "token-house", "bps": 1}]))),
            ("DecisionDefined", decision("d", dict(PU_CURRENT, vetoes=["token-house"]))),
            ("DecisionDefined", decision("d", {k: v for k, v in PU_CURRENT.items() if k != "executors"})),
            ("DecisionDefined", decision("d", PU_CURRENT, profile={"mood": "calm"})),   # extra profile key
            ("DecisionDefined", decision("d", PU_CURRENT, profile={"leverage": "5"})),
            ("DecisionDefined", decision("d", PU_CURRENT, profile=None) | {"profile": None}),
            ("DecisionDefined", decision("d", PU_CURRENT) | {"target": None}),
            ("DecisionDefined", {k: v for k, v in decision("d", PU_CURRENT).items() if k != "profile"}),
            ("DecisionDefined", decision("d", PU_CURRENT) | {"milestones": "G-1"}),
            # SECTION13 a: `current` in a revision is an unlisted key
            ("DecisionRevised", {"id": "grants", "reason": "r", "title": "t", "current": GR_TARGET}),
            ("AuthorityTransferred", {k: v for k, v in transfer("grants", GR_CURRENT, GR_TARGET).items()
                                      if k != "effective_on"}),
            ("AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET, effective_on="2026-02-30")),
            ("AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET, effective_on="2026-2-3")),
            ("AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET, effective_on="0000-01-01")),
            ("AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET) | {"evidence": None}),
            ("HypothesisStated", {"decision": "grants", "id": "h", "statement": "s"}),
            ("HypothesisStated", {"decision": "grants", "id": "h", "statement": "s", "measure": "m", "x": 1}),
            ("HypothesisConcluded", {"decision": "grants", "id": "h", "outcome": "supported", "note": "n",
                                     "evidence": [1]}),
        ]
        lg = base()
        for etype, payload in cases:
            with self.subTest(etype=etype, payload=payload):
                self.fails(lg.fork().add("alice", etype, payload), mal)

    def test_date_grammar_comes_before_the_rules(self):
        # section 2: a bad date is a format error (rule 0), even in a statement that also breaks rules
        lg = base()
        bad = transfer("grants", GR_TARGET, GR_TARGET, [], effective_on="2026-13-01")
        self.fails(lg.fork().add("carol", "AuthorityTransferred", bad), "malformed")
        self.fails(lg.fork().add("alice", "AuthorityTransferred", bad), "malformed")

    def test_who_may_sign(self):
        lg = base()
        steward_only = [("BodyDefined", body("x")), ("BodyRevised", {"id": "foundation", "reason": "r", "title": "t"}),
                        ("BodyRetired", {"id": "citizens-house", "reason": "r"}),
                        ("DecisionDefined", decision("d", PU_CURRENT)),
                        ("DecisionRevised", {"id": "grants", "reason": "r", "title": "t"})]
        review = [("AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET)),
                  ("HypothesisStated", {"decision": "grants", "id": "h", "statement": "s", "measure": "m"})]
        for etype, payload in steward_only:
            self.fails(lg.fork().add("bob", etype, payload), "rule_violation", 1)       # reviewer
            self.fails(lg.fork().add("carol", etype, payload), "rule_violation", 1)     # reporter
        for etype, payload in review:
            self.fails(lg.fork().add("carol", etype, payload), "rule_violation", 1)
            self.assertTrue(lg.fork().add("bob", etype, payload).verify()[0]["ok"])
        stated = lg.fork().add("bob", "HypothesisStated", review[1][1])
        concl = {"decision": "grants", "id": "h", "outcome": "refuted", "note": "n", "evidence": []}
        self.fails(stated.fork().add("carol", "HypothesisConcluded", concl), "rule_violation", 1)
        self.assertTrue(stated.fork().add("bob", "HypothesisConcluded", concl).verify()[0]["ok"])
        # unregistered signer; retired signer (rule 6); a forged signature
        self.fails(lg.fork().add("dave", "BodyDefined", body("x")), "unknown_actor")
        gone = lg.fork().add("alice", "ActorRetired", {"actor": "bob", "reason": "left"})
        self.fails(gone.add("bob", "AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET)),
                   "rule_violation", 6)
        forged = lg.fork()
        forged.keys = dict(forged.keys, alice=key(7))
        self.fails(forged.add("alice", "BodyDefined", body("x")), "bad_signature")

    def test_rule_9_bodies(self):
        lg = base()
        rv = "rule_violation"
        self.fails(lg.fork().add("alice", "BodyDefined", body("token-house")), rv, 9)          # duplicate id
        self.fails(lg.fork().add("alice", "BodyDefined", body("old-committee")), rv, 9)        # retired id too
        self.fails(lg.fork().add("alice", "BodyDefined", body("-x")), rv, 9)                   # id pattern
        self.fails(lg.fork().add("alice", "BodyDefined", body("x" * 65)), rv, 9)
        self.fails(lg.fork().add("alice", "BodyDefined", body("x", "dao")), rv, 9)             # kind
        self.fails(lg.fork().add("alice", "BodyDefined", body("x", "Council")), rv, 9)
        self.fails(lg.fork().add("alice", "BodyRevised", {"id": "nobody", "reason": "r", "title": "t"}), rv, 9)
        self.fails(lg.fork().add("alice", "BodyRevised", {"id": "old-committee", "reason": "r", "title": "t"}),
                   rv, 6)
        self.fails(lg.fork().add("alice", "BodyRevised", {"id": "foundation", "reason": "r"}), rv, 9)
        self.fails(lg.fork().add("alice", "BodyRetired", {"id": "nobody", "reason": "r"}), rv, 9)
        self.fails(lg.fork().add("alice", "BodyRetired", {"id": "old-committee", "reason": "r"}), rv, 9)
        # named by a current design (deciders, proposers, executors, vetoes) or only by a target
        res = self.fails(lg.fork().add("alice", "BodyRetired", {"id": "foundation", "reason": "r"}), rv, 9)
        # (the error lists the decisions: an executor of grants, everything in protocol-upgrades, a
        # decider of sc-elections)
        self.assertIn("['grants', 'protocol-upgrades', 'sc-elections']", res["detail"])
        res = self.fails(lg.fork().add("alice", "BodyRetired", {"id": "security-council", "reason": "r"}), rv, 9)
        self.assertIn("['grants', 'sc-elections']", res["detail"])   # a veto, an executor
        res = self.fails(lg.fork().add("alice", "BodyRetired", {"id": "citizens-house", "reason": "r"}), rv, 9)
        self.assertIn("['protocol-upgrades']", res["detail"])        # only its target (a veto) names it
        # charter must be an http(s) URL (rule 12's sentence)
        self.fails(lg.fork().add("alice", "BodyDefined", body("x", charter="ftp://x/y")), rv, 12)
        self.fails(lg.fork().add("alice", "BodyRevised", {"id": "foundation", "reason": "r",
                                                          "charter": "optimism.io"}), rv, 12)

    def test_rule_10_decisions(self):
        lg = base()
        rv = "rule_violation"
        D = lambda **kw: decision("d", PU_CURRENT, **kw)  # noqa: E731
        bad_designs = [
            design(["token-house", "foundation"]),                                  # deciders not sorted
            design(["foundation"], proposers=["foundation", "foundation"]),          # repeat
            design(["foundation"], executors=["token-house", "citizens-house"]),     # executors not sorted
            design(["foundation"], vetoes=["token-house", "citizens-house"]),        # vetoes not sorted by body
            design(["foundation"], vetoes=[("token-house", 100), ("token-house", 200)]),  # a body twice
            design(["foundation"], vetoes=["token-house", "token-house"]),
            design(["nobody"]),                                                      # undefined body
            design(["foundation"], executors=["old-committee"]),                     # retired body
            design(["foundation"], vetoes=["old-committee"]),
            design(["foundation"], proposers=["nobody"]),
            design([], "vote"),                                                      # empty deciders
            design([], "multisig"),
            design(["foundation"], "referendum"),                                    # process
            design(["foundation"], "Vote"),
            design(["foundation"], threshold_bps=0),                                 # basis points
            design(["foundation"], threshold_bps=10001),
            design(["foundation"], quorum_bps=-5),
            design(["foundation"], vetoes=[("token-house", 0)]),
            design(["foundation"], vetoes=[("token-house", 20000)]),
            design(["foundation"], "multisig", signers={"m": 14, "n": 13}),          # signers m > n
            design(["foundation"], "multisig", signers={"m": 0, "n": 13}),
            design(["foundation"], "multisig", signers={"m": 1, "n": 1001}),
        ]
        for d in bad_designs:
            with self.subTest(design=d):
                self.fails(lg.fork().add("alice", "DecisionDefined", decision("d", d)), rv, 10)
                self.fails(lg.fork().add("alice", "DecisionDefined", decision("d", PU_CURRENT, d)), rv, 10)
                self.fails(lg.fork().add("alice", "DecisionRevised", {"id": "grants", "reason": "r", "target": d}),
                           rv, 10)
                self.fails(lg.fork().add("alice", "AuthorityTransferred", transfer("grants", GR_CURRENT, d)), rv, 10)
        cases = [
            decision("grants", PU_CURRENT),                                          # duplicate id
            decision("-d", PU_CURRENT),                                              # id pattern
            D(layer="social"),                                                       # layer
            D(principles=["p-c"]),                                                   # unknown principle
            D(principles=["p-b", "p-a"]),                                            # not sorted
            D(principles=["p-a", "p-a"]),
            D(milestones=["G-9"]),                                                   # undefined milestone
            D(milestones=["G-2"]),                                                   # retired milestone (seq 16)
            D(milestones=["G-1", "G-1"]),
            D(profile={"cadence": "weekly"}),                                        # profile sets
            D(profile={"stakes": "medium"}),
            D(profile={"complexity": "many"}),
            D(profile={"answer": "vote"}),
            D(profile={"space": "flat"}),
            D(profile={"leverage": 13}),                                             # profile leverage
            D(profile={"leverage": 0}),
        ]
        for p in cases:
            with self.subTest(payload=p):
                self.fails(lg.fork().add("alice", "DecisionDefined", p), rv, 10)
        revisions = [
            {"id": "nothing", "reason": "r", "title": "t"},                          # undefined decision
            {"id": "grants", "reason": "r"},                                         # nothing revised
            {"id": "grants", "reason": "r", "milestones": ["G-2"]},
            {"id": "grants", "reason": "r", "milestones": ["G-1", "G-0"]},
            {"id": "grants", "reason": "r", "profile": {"leverage": 13}},
        ]
        for p in revisions:
            with self.subTest(payload=p):
                self.fails(lg.fork().add("alice", "DecisionRevised", p), rv, 10)
        self.fails(lg.fork().add("alice", "DecisionDefined", D(source="gov.optimism.io")), rv, 12)

    def test_rule_10_current_never_revised(self):
        # a revision's target replaces the old one whole and leaves current alone
        lg = base().add("alice", "DecisionRevised", {"id": "protocol-upgrades", "reason": "r", "target": PU_STEP})
        st = lg.verify(print_status=lg.seq)[1]
        pu = st["decisions"][1]
        self.assertEqual((pu["current"], pu["target"], pu["last_change"]), (PU_CURRENT, PU_STEP, lg.change(17)))
        # the transfer must start from the unchanged current
        self.fails(lg.fork().add("alice", "AuthorityTransferred", transfer("protocol-upgrades", PU_STEP, PU_TARGET)),
                   "rule_violation", 11)
        self.assertTrue(lg.add("alice", "AuthorityTransferred",
                               transfer("protocol-upgrades", PU_CURRENT, PU_STEP)).verify()[0]["ok"])

    def test_rule_11_transfers(self):
        lg = base()
        rv = "rule_violation"
        self.fails(lg.fork().add("alice", "AuthorityTransferred", transfer("nothing", GR_CURRENT, GR_TARGET)), rv, 11)
        # from is a valid design, but not the current one
        self.fails(lg.fork().add("alice", "AuthorityTransferred", transfer("grants", GR_TARGET, GR_CURRENT)), rv, 11)
        # from equal but for one optional key (JCS equality)
        self.fails(lg.fork().add("alice", "AuthorityTransferred",
                                 transfer("grants", dict(GR_CURRENT, quorum_bps=1), GR_TARGET)), rv, 11)
        # to equals current
        self.fails(lg.fork().add("alice", "AuthorityTransferred", transfer("grants", GR_CURRENT, GR_CURRENT)), rv, 11)
        # no evidence; empty reason
        self.fails(lg.fork().add("alice", "AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET, [])),
                   rv, 11)
        self.fails(lg.fork().add("alice", "AuthorityTransferred",
                                 transfer("grants", GR_CURRENT, GR_TARGET, reason="")), rv, 11)
        # evidence must be http(s) URLs (rule 12's sentence), at most 16 (rule 8)
        self.fails(lg.fork().add("alice", "AuthorityTransferred",
                                 transfer("grants", GR_CURRENT, GR_TARGET, ["ipfs://Qm"])), rv, 12)
        self.fails(lg.fork().add("alice", "AuthorityTransferred",
                                 transfer("grants", GR_CURRENT, GR_TARGET, [URL] * 17)), rv, 8)
        self.assertTrue(lg.fork().add("alice", "AuthorityTransferred",
                                      transfer("grants", GR_CURRENT, GR_TARGET, [URL] * 16)).verify()[0]["ok"])
        # a non-canonical from is caught by rule 10 (every recorded design)
        self.fails(lg.fork().add("alice", "AuthorityTransferred",
                                 transfer("grants", dict(GR_CURRENT, executors=["foundation", "foundation"]),
                                          GR_TARGET)), rv, 10)
        # afterwards current = to: the old from no longer works, the new one does
        moved = lg.fork().add("alice", "AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET))
        self.fails(moved.fork().add("alice", "AuthorityTransferred", transfer("grants", GR_CURRENT, GR_TARGET)),
                   rv, 11)
        self.assertTrue(moved.add("alice", "AuthorityTransferred",
                                  transfer("grants", GR_TARGET, GR_CURRENT)).verify()[0]["ok"])

    def test_rule_12_hypotheses(self):
        lg = base()
        rv = "rule_violation"
        hs = lambda hid="h", did="grants", statement="s", measure="m": {  # noqa: E731
            "decision": did, "id": hid, "statement": statement, "measure": measure}
        hc = lambda hid="h", outcome="supported", note="n", evidence=(): {  # noqa: E731
            "decision": "grants", "id": hid, "outcome": outcome, "note": note, "evidence": list(evidence)}
        self.fails(lg.fork().add("alice", "HypothesisStated", hs(did="nothing")), rv, 12)
        self.fails(lg.fork().add("alice", "HypothesisStated", hs(hid="h h")), rv, 12)
        self.fails(lg.fork().add("alice", "HypothesisStated", hs(statement="")), rv, 12)
        self.fails(lg.fork().add("alice", "HypothesisStated", hs(measure="")), rv, 12)
        stated = lg.fork().add("alice", "HypothesisStated", hs())
        self.fails(stated.fork().add("alice", "HypothesisStated", hs()), rv, 12)                   # duplicate
        self.assertTrue(stated.fork().add("alice", "HypothesisStated", hs(did="sc-elections")).verify()[0]["ok"])
        self.fails(stated.fork().add("alice", "HypothesisConcluded", hc(hid="other")), rv, 12)     # unstated
        self.fails(stated.fork().add("alice", "HypothesisConcluded", hc(outcome="proven")), rv, 12)
        self.fails(stated.fork().add("alice", "HypothesisConcluded", hc(outcome="Supported")), rv, 12)
        self.fails(stated.fork().add("alice", "HypothesisConcluded", hc(note="")), rv, 12)
        self.fails(stated.fork().add("alice", "HypothesisConcluded", hc(evidence=["mailto:a@b"])), rv, 12)
        self.fails(stated.fork().add("alice", "HypothesisConcluded", hc(evidence=[URL] * 17)), rv, 8)
        done = stated.fork().add("alice", "HypothesisConcluded", hc(outcome="inconclusive"))
        self.assertTrue(done.verify()[0]["ok"])
        self.fails(done.fork().add("alice", "HypothesisConcluded", hc(outcome="refuted")), rv, 12)  # concluded
        self.fails(done.fork().add("alice", "HypothesisStated", hs()), rv, 12)                     # restated

    def test_rules_7_and_8_on_new_types(self):
        lg = base()
        ev = lg.events[-2]                           # DecisionDefined sc-elections (seq 15), replayed
        self.fails(lg.fork().add("alice", "DecisionDefined", ev["payload"], issued_at=ev["issued_at"],
                                 sig=ev["sig"]), "rule_violation", 7)
        body_ev = lg.events[10]                      # seq 11, BodyRevised, replayed
        self.assertEqual(body_ev["type"], "BodyRevised")
        self.fails(lg.fork().add("alice", "BodyRevised", body_ev["payload"], issued_at=body_ev["issued_at"],
                                 sig=body_ev["sig"]), "rule_violation", 7)
        # strings: 4,096 characters at most
        self.fails(lg.fork().add("alice", "BodyDefined", body("x", description="x" * 4097)), "rule_violation", 8)
        self.assertTrue(lg.fork().add("alice", "BodyDefined", body("x", description="x" * 4096)).verify()[0]["ok"])
        self.fails(lg.fork().add("alice", "HypothesisStated", {"decision": "grants", "id": "h", "statement": "s",
                                                               "measure": "m" * 4097}), "rule_violation", 8)
        # a statement over 64 KiB: a design with 8,000 (undefined) proposers; rule 8 is checked first
        many = [f"b{i:05d}" for i in range(8000)]
        self.fails(lg.fork().add("alice", "DecisionDefined", decision("d", design(["foundation"], proposers=many))),
                   "rule_violation", 8)
        # the chain after a failure: the bad event is the first bad seq even with valid events after it
        after = lg.fork().add("alice", "BodyDefined", body("-bad")).add("alice", "BodyDefined", body("fine"))
        self.fails(after, "rule_violation", 9, seq=lg.seq + 1)


if __name__ == "__main__":
    unittest.main()
