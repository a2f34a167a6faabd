#!/usr/bin/env python3
"""Offline check of the bundled framework files and the sourced Optimism history.

Loads core/frameworks/optimism.toml and core/frameworks/l2beat-stages.toml, checks their shape
(SPEC section 11 and its section 13 additions: [[bodies]] and [[decisions]] replayed as the
BodyDefined and DecisionDefined statements `init` records), then replays
src/cli/demo/optimism-history.jsonl (the `apply` format of SPEC section 10) against the rules of
SPEC section 5 (rules 2 to 6 and the limits of rule 8) and section 13 (rules 0 and 9 to 12), as
they apply to these files. The section 13 rules are not re-implemented here: they are the
independent verifier's (tests/independent/waymark_verify.py, imported). Signatures, hashes and
the chain are not checked here: the demo program signs and records the lines.

On top of the rules it checks what the bundled data promises (issue 14):
  * sources: every statement of the history cites an http(s) source (evidence, source, charter
    or a URL in its text) or says "Reconstructed"; every status change and authority transfer
    has evidence; every framework milestone and decision has a `source` URL that points at a
    page or file, not at a repository root; no text says a dependency is "as in the source";
  * the corrected dates of the milestone history and of the authority transfers (PINNED_*);
  * the demo's decision story ends where the framework starts: the same decision ids, each
    demo decision's final `current` (and `target`) JCS-equal to the framework's, and every
    framework body defined and unretired in the demo.

Context assumed before the first line (what `waymark demo` does): the ledger is opened with the
optimism framework at 2024-06-01T12:00:00.000000Z, every framework milestone is defined
(status not_started, each layer in its first phase) but none of the framework's bodies and
decisions (the history defines the 2024 ones itself), and three actors are registered:
foundation (steward, founder), reviewer (reviewer), reporter (reporter).

Usage: python3 tools/check_history.py [--frameworks DIR] [--history FILE]
Exits 0 when everything holds; otherwise prints the first problem (with its line number)
and exits 1. Python 3.11+ (tomllib) with the independent verifier's libraries (rfc8785,
cryptography: tests/independent/requirements.txt).
"""

import datetime
import json
import os
import re
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "independent"))
import waymark_verify as wv  # noqa: E402  (section 13: shapes, rules 9-12, JCS)

DEFAULT_FRAMEWORKS = os.path.join(HERE, "..", "core", "frameworks")
DEFAULT_HISTORY = os.path.join(HERE, "..", "src", "cli", "demo", "optimism-history.jsonl")

OPENED_AT = "2024-06-01T12:00:00.000000Z"
ACTORS = {
    "foundation": {"steward"},
    "reviewer": {"reviewer"},
    "reporter": {"reporter"},
}

MILESTONE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
URL = re.compile(r"^https?://[^\s]+$")
MAX_STRING = 4096
MAX_EVIDENCE = 16
MAX_STATEMENT = 64 * 1024
MAX_INT = 2**53 - 1
STATUSES = ("not_started", "in_progress", "achieved")

# type -> (required payload keys, optional payload keys, roles allowed to sign)
TYPES = {
    "MilestoneDefined": (
        {"id", "title", "layer", "phase", "description", "principles", "depends_on"},
        set(),
        {"steward"},
    ),
    "MilestoneRevised": (
        {"id", "reason"},
        {"title", "description", "phase", "principles", "depends_on"},
        {"steward"},
    ),
    "MilestoneRetired": ({"id", "reason"}, set(), {"steward"}),
    "MilestoneStatusChanged": (
        {"id", "from", "to", "reason", "evidence"},
        {"effective_on"},
        {"steward", "reviewer", "reporter"},
    ),
    "PhaseTransitioned": ({"layer", "from", "to", "reason"}, set(), {"steward", "reviewer"}),
    "SeasonOpened": ({"season", "starts_on", "intent", "focus"}, set(), {"steward"}),
    "SeasonReEvaluated": (
        {"season", "ends_on", "summary", "assessments"},
        set(),
        {"steward", "reviewer"},
    ),
}
# Section 13 types: shapes (rule 0) and rules 9-12 come from the independent verifier.
S13_TYPES = set(wv.S13_TYPES)

# A source URL must name the page or file that states the fact, not a repository's root.
REPO_ROOT = re.compile(r"^https?://(www\.)?(github\.com|gitlab\.com)/[^/\s]+/[^/\s]+/?$")
TEXT_URL = re.compile(r"https?://[^\s),]+")

# Corrected dates (issue 14, item 6; docs/domain/optimism.md "Corrections and additions").
# Milestone status changes: (milestone, to) -> effective_on of each such change, in order; the
# change must also be issued on that day.
PINNED_STATUS = {
    ("T-A1", "achieved"): ["2024-06-10", "2024-09-11"],
    ("T-A1", "in_progress"): ["2024-08-16"],
    ("T-A2", "achieved"): ["2024-08-28"],   # Cohort A, Voting Cycle #26 (August 2024)
    ("T-A4", "achieved"): ["2024-10-30"],   # Standard Blockspace Charter, Cycle #29 (late Oct 2024)
    ("E-A1", "achieved"): ["2024-10-30"],   # Governor Update #3, Cycle #29
    ("E-B2", "in_progress"): ["2025-05-01"],  # Budget Board ratified in Season 7, term from 1 May 2025
    ("E-B3", "in_progress"): ["2025-02-27"],  # passive-management proposal, Season 7
    ("S-A6", "achieved"): ["2025-07-31"],
}
# Authority transfers: decision -> effective_on of each transfer, in order.
PINNED_TRANSFERS = {
    "emergency-security": ["2024-06-10"],            # Protocol Upgrade #8: the Guardian
    "code-of-conduct": ["2024-06-12", "2025-08-01"],
    "security-council-membership": ["2024-08-28"],   # Cohort A elected
    "token-allocations": ["2024-06-12", "2024-10-30", "2025-01-16", "2025-08-01"],  # GU#3; Budget Board
    "maintenance-upgrades": ["2025-01-16", "2025-08-01"],  # optimistic since OM v0.4.0
    "sequencer-eth": ["2025-02-27"],                 # to the Citizens' House
    "metagovernance": ["2025-07-31"],                # the move back to the Foundation
    "protocol-upgrades": ["2025-08-01", "2025-09-24"],  # DAB approval, then active approval
    "inflation": ["2025-08-01"],
    "governance-documents": ["2025-08-01"],
    "elections": ["2025-08-01"],
    "retro-funding": ["2025-08-01", "2026-01-28"],   # paused through the end of 2026
}
# Texts that must (or must no longer) appear in a season statement: (type, season, key, needle, present?).
PINNED_TEXT = [
    ("SeasonOpened", 8, "intent", "/10009", True),             # the real Season 8 Intent
    ("SeasonOpened", 9, "intent", "to be introduced", True),    # Season 9: changes to be introduced
    ("SeasonOpened", 9, "intent", "changes introduced throughout", False),
    ("SeasonReEvaluated", 7, "assessments", "no Budget Board", False),
    ("SeasonReEvaluated", 7, "assessments", "no sourced change", False),
]


class Bad(Exception):
    pass


# ------------------------------------------------------------------------------- helpers


def walk_values(value, where):
    """Reject floats, nulls, out-of-range integers and over-long strings anywhere."""
    if value is None:
        raise Bad(f"{where}: null is not allowed")
    if isinstance(value, bool):
        return
    if isinstance(value, float):
        raise Bad(f"{where}: floating-point number {value!r} is not allowed")
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise Bad(f"{where}: integer {value} is outside +/-(2^53-1)")
        return
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise Bad(f"{where}: string of {len(value)} characters exceeds {MAX_STRING}")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            walk_values(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, item in value.items():
            walk_values(item, f"{where}.{k}")
        return
    raise Bad(f"{where}: unexpected value {value!r}")


def need_str(value, where, allow_empty=False):
    if not isinstance(value, str):
        raise Bad(f"{where}: expected a string")
    if not allow_empty and not value.strip():
        raise Bad(f"{where}: must not be empty")
    return value


def need_str_list(value, where):
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise Bad(f"{where}: expected a list of strings")
    if len(set(value)) != len(value):
        raise Bad(f"{where}: duplicate entries")
    return value


def need_date(value, where):
    need_str(value, where)
    if not DATE.match(value):
        raise Bad(f"{where}: {value!r} is not YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Bad(f"{where}: {value!r} is not a real date")


def need_timestamp(value, where):
    need_str(value, where)
    if not TIMESTAMP.match(value):
        raise Bad(f"{where}: {value!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        raise Bad(f"{where}: {value!r} is not a real time")
    return value


def has_cycle(deps):
    """deps: id -> list of ids. True when the graph has a cycle."""
    state = {}

    def visit(node):
        state[node] = 1
        for nxt in deps.get(node, ()):
            s = state.get(nxt, 0)
            if s == 1:
                return True
            if s == 0 and visit(nxt):
                return True
        state[node] = 2
        return False

    return any(state.get(n, 0) == 0 and visit(n) for n in list(deps))


# ------------------------------------------------------------------------------- framework


def check_framework(path):
    where = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            fw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise Bad(f"{where}: does not parse: {e}")
    walk_values(fw, where)

    for key in ("id", "version", "title"):
        need_str(fw.get(key), f"{where}: {key}")
    allowed_top = {"id", "version", "title", "principles", "layers", "phases", "milestones", "bodies", "decisions"}
    extra = set(fw) - allowed_top
    if extra:
        raise Bad(f"{where}: unknown top-level keys {sorted(extra)}")

    principles = set()
    for i, p in enumerate(fw.get("principles", [])):
        w = f"{where}: principles[{i}]"
        if set(p) != {"id", "title"}:
            raise Bad(f"{w}: keys must be id, title")
        need_str(p["id"], f"{w}.id")
        need_str(p["title"], f"{w}.title")
        if p["id"] in principles:
            raise Bad(f"{w}: duplicate principle {p['id']!r}")
        principles.add(p["id"])
    if not principles:
        raise Bad(f"{where}: no principles")

    phase_ids = []
    for i, p in enumerate(fw.get("phases", [])):
        w = f"{where}: phases[{i}]"
        if set(p) != {"id", "title", "description"}:
            raise Bad(f"{w}: keys must be id, title, description")
        for k in ("id", "title", "description"):
            need_str(p[k], f"{w}.{k}")
        if p["id"] in phase_ids:
            raise Bad(f"{w}: duplicate phase {p['id']!r}")
        phase_ids.append(p["id"])

    layers = {}
    for i, layer in enumerate(fw.get("layers", [])):
        w = f"{where}: layers[{i}]"
        if set(layer) != {"id", "title", "phases"}:
            raise Bad(f"{w}: keys must be id, title, phases")
        need_str(layer["id"], f"{w}.id")
        need_str(layer["title"], f"{w}.title")
        phases = need_str_list(layer["phases"], f"{w}.phases")
        if not phases:
            raise Bad(f"{w}: no phases")
        for ph in phases:
            if ph not in phase_ids:
                raise Bad(f"{w}: phase {ph!r} is not in [[phases]]")
        if layer["id"] in layers:
            raise Bad(f"{w}: duplicate layer {layer['id']!r}")
        layers[layer["id"]] = {"title": layer["title"], "phases": phases}
    if not layers:
        raise Bad(f"{where}: no layers")

    milestones = {}
    order = []
    required = {"id", "title", "layer", "phase", "description", "principles", "depends_on", "source"}
    for i, m in enumerate(fw.get("milestones", [])):
        w = f"{where}: milestones[{i}]"
        if set(m) != required:
            raise Bad(f"{w}: keys must be {sorted(required)}, got {sorted(m)}")
        mid = need_str(m["id"], f"{w}.id")
        w = f"{where}: milestone {mid}"
        if not MILESTONE_ID.match(mid):
            raise Bad(f"{w}: id does not match {MILESTONE_ID.pattern}")
        if mid in milestones:
            raise Bad(f"{w}: duplicate id")
        for k in ("title", "description", "layer", "phase"):
            need_str(m[k], f"{w}.{k}")
        if m["layer"] not in layers:
            raise Bad(f"{w}: unknown layer {m['layer']!r}")
        if m["phase"] not in layers[m["layer"]]["phases"]:
            raise Bad(f"{w}: phase {m['phase']!r} is not a phase of layer {m['layer']!r}")
        for p in need_str_list(m["principles"], f"{w}.principles"):
            if p not in principles:
                raise Bad(f"{w}: unknown principle {p!r}")
        for d in need_str_list(m["depends_on"], f"{w}.depends_on"):
            if d not in milestones:
                raise Bad(f"{w}: depends_on {d!r} is not defined earlier in the file")
        if not URL.match(need_str(m["source"], f"{w}.source")):
            raise Bad(f"{w}: source {m['source']!r} is not an http(s) URL")
        if REPO_ROOT.match(m["source"]):
            raise Bad(f"{w}: source {m['source']!r} is a repository root, not the file that states the fact")
        if not m["depends_on"] or "Reconstructed" in m["description"]:
            pass
        else:
            raise Bad(f"{w}: depends_on {m['depends_on']} but the description does not say the dependency is Reconstructed")
        milestones[mid] = m
        order.append(mid)

    # Depending only on earlier milestones already rules out cycles; check anyway.
    if has_cycle({k: v["depends_on"] for k, v in milestones.items()}):
        raise Bad(f"{where}: the dependency graph has a cycle")
    for lid, layer in layers.items():
        for ph in layer["phases"]:
            if not any(m["layer"] == lid and m["phase"] == ph for m in milestones.values()):
                raise Bad(f"{where}: layer {lid!r} has no milestone in phase {ph!r}")
    s13 = check_framework_decisions(path, fw, layers, milestones, principles)
    return fw, layers, milestones, principles, s13


def s13_replay(layers, principles, milestones):
    """The independent verifier's replay state, holding what section 13's rules look up."""
    r = wv.Replay()
    r.framework = {"layers": [{"id": lid, "title": la["title"], "phases": list(la["phases"])} for lid, la in layers.items()],
                   "principles": [{"id": p} for p in sorted(principles)], "phases": []}
    r.milestones = milestones
    return r


def s13_apply(replay, typ, payload, seq, actor, recorded_at, where):
    """One section 13 statement: rule 0 (exact shape) and rules 9-12, by the independent verifier."""
    try:
        wv.find_nul(payload, "payload")
        wv.check_shape(payload, wv.PAYLOADS[typ], "payload", True)
        getattr(replay, "on_" + typ)({"seq": seq, "actor": actor, "recorded_at": recorded_at}, payload)
    except wv.Failure as e:
        raise Bad(f"{where}: {e.problem}: {e.detail}")


def cites_source(value):
    """True when a statement cites an http(s) URL anywhere or says Reconstructed."""
    texts = []

    def walk(v):
        if isinstance(v, str):
            texts.append(v)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
    walk(value)
    return any(URL.match(t) or TEXT_URL.search(t) for t in texts) or any("Reconstructed" in t for t in texts)


def check_framework_decisions(path, fw, layers, milestones, principles):
    """SPEC section 13's framework additions, replayed as `init` records them: one BodyDefined per
    [[bodies]] entry, then one DecisionDefined per [[decisions]] entry, in file order, the TOML
    keys mapping one to one onto payload keys. Returns {"bodies", "decisions"} as recorded."""
    where = os.path.basename(path)
    bodies, decisions = fw.get("bodies", []), fw.get("decisions", [])
    if not bodies and not decisions:
        return {"bodies": {}, "decisions": {}}
    with open(path, encoding="utf-8") as f:
        headers = [line.strip() for line in f if line.strip() in ("[[bodies]]", "[[decisions]]")]
    if "[[decisions]]" in headers and "[[bodies]]" in headers[headers.index("[[decisions]]"):]:
        raise Bad(f"{where}: a [[bodies]] entry follows a [[decisions]] entry: define bodies before the decisions")
    state = {mid: {"retired": False} for mid in milestones}
    replay = s13_replay(layers, principles, state)
    seq = 0
    for i, b in enumerate(bodies):
        seq += 1
        w = f"{where}: bodies[{i}] ({b.get('id')!r})"
        s13_apply(replay, "BodyDefined", b, seq, fw["id"], "", w)
        if not ("charter" in b or cites_source(b.get("description", ""))):
            raise Bad(f"{w}: neither a charter URL nor a source URL in the description nor 'Reconstructed'")
        if "charter" in b and REPO_ROOT.match(b["charter"]):
            raise Bad(f"{w}: charter {b['charter']!r} is a repository root")
    for i, d in enumerate(decisions):
        seq += 1
        w = f"{where}: decisions[{i}] ({d.get('id')!r})"
        s13_apply(replay, "DecisionDefined", d, seq, fw["id"], "", w)
        if "source" not in d:
            raise Bad(f"{w}: no source URL (every bundled decision cites the page that states it)")
        if REPO_ROOT.match(d["source"]):
            raise Bad(f"{w}: source {d['source']!r} is a repository root, not the page that states the fact")
        if "target" in d and "Reconstructed" not in d["description"] and "target" not in d["description"].lower():
            raise Bad(f"{w}: a target whose description names no source for it")
    return {"bodies": {b["id"]: b for b in bodies}, "decisions": {d["id"]: d for d in decisions}}


# ------------------------------------------------------------------------------- history


class Ledger:
    def __init__(self, layers, milestones, principles):
        self.layers = layers
        self.principles = principles
        self.milestones = {}
        for mid, m in milestones.items():
            self.milestones[mid] = {
                "layer": m["layer"],
                "phase": m["phase"],
                "depends_on": list(m["depends_on"]),
                "status": "not_started",
                "retired": False,
            }
        self.phase = {lid: layer["phases"][0] for lid, layer in layers.items()}
        self.last_season = None
        self.open_season = None  # (number, starts_on date)
        self.last_issued = OPENED_AT
        self.s13 = s13_replay(layers, principles, self.milestones)
        self.transfers = []   # (decision, effective_on)
        self.status_changes = []  # (milestone, to, effective_on or None, issued date)
        self.seasons = {}     # (type, season) -> payload

    def milestone(self, mid, where, usable=True):
        if not isinstance(mid, str) or mid not in self.milestones:
            raise Bad(f"{where}: milestone {mid!r} is not defined")
        m = self.milestones[mid]
        if usable and m["retired"]:
            raise Bad(f"{where}: milestone {mid!r} is retired (rule 6)")
        return m

    def check_deps(self, mid, deps, where):
        for d in need_str_list(deps, where):
            if d == mid:
                raise Bad(f"{where}: {mid!r} cannot depend on itself")
            self.milestone(d, f"{where}: dependency", usable=True)
        graph = {k: v["depends_on"] for k, v in self.milestones.items()}
        graph[mid] = list(deps)
        if has_cycle(graph):
            raise Bad(f"{where}: dependency graph would have a cycle (rule 2)")

    def apply(self, line_no, obj):
        where = f"line {line_no}"
        if not isinstance(obj, dict):
            raise Bad(f"{where}: not a JSON object")
        extra = set(obj) - {"as", "type", "payload", "issued_at"}
        if extra:
            raise Bad(f"{where}: unknown keys {sorted(extra)}")
        for k in ("as", "type", "payload", "issued_at"):
            if k not in obj:
                raise Bad(f"{where}: missing {k!r}")
        walk_values(obj, where)
        if len(json.dumps(obj, ensure_ascii=False).encode("utf-8")) > MAX_STATEMENT:
            raise Bad(f"{where}: statement exceeds 64 KiB (rule 8)")

        actor, typ, p = obj["as"], obj["type"], obj["payload"]
        issued = need_timestamp(obj["issued_at"], f"{where}: issued_at")
        if issued <= self.last_issued:
            raise Bad(f"{where}: issued_at {issued} is not after {self.last_issued}")
        self.last_issued = issued
        issued_date = datetime.date.fromisoformat(issued[:10])

        if typ not in TYPES and typ not in S13_TYPES:
            raise Bad(f"{where}: type {typ!r} is not allowed in this history")
        if not cites_source(p):
            raise Bad(f"{where} ({typ}): cites no http(s) source and does not say 'Reconstructed'")
        if typ in S13_TYPES:
            where = f"{where} ({typ})"
            if actor not in ACTORS:
                raise Bad(f"{where}: actor {actor!r} is not registered (rule 1)")
            if not (ACTORS[actor] & wv.SIGNERS[typ]):
                raise Bad(f"{where}: actor {actor!r} with roles {sorted(ACTORS[actor])} may not sign {typ} (rule 1)")
            if not isinstance(p, dict):
                raise Bad(f"{where}: payload is not an object")
            if typ == "AuthorityTransferred" and isinstance(p.get("effective_on"), str):
                if need_date(p["effective_on"], f"{where}: effective_on") > issued_date:
                    raise Bad(f"{where}: effective_on {p['effective_on']} is after issued_at")
            s13_apply(self.s13, typ, p, line_no, actor, issued, where)
            if typ == "AuthorityTransferred":
                self.transfers.append((p["decision"], p["effective_on"]))
            return
        required, optional, roles = TYPES[typ]
        where = f"{where} ({typ})"
        if actor not in ACTORS:
            raise Bad(f"{where}: actor {actor!r} is not registered (rule 1)")
        held = ACTORS[actor]
        if "steward" not in held and not (held & roles):
            raise Bad(f"{where}: actor {actor!r} with roles {sorted(held)} may not sign {typ} (rule 1)")
        if not isinstance(p, dict):
            raise Bad(f"{where}: payload is not an object")
        missing = required - set(p)
        if missing:
            raise Bad(f"{where}: payload misses {sorted(missing)}")
        extra = set(p) - required - optional
        if extra:
            raise Bad(f"{where}: payload has unknown keys {sorted(extra)}")

        getattr(self, "do_" + typ)(where, p, issued_date)

    # -- milestones

    def do_MilestoneDefined(self, where, p, _):
        mid = need_str(p["id"], f"{where}: id")
        if not MILESTONE_ID.match(mid):
            raise Bad(f"{where}: id {mid!r} does not match {MILESTONE_ID.pattern} (rule 2)")
        if mid in self.milestones:
            raise Bad(f"{where}: id {mid!r} is already defined (rule 2)")
        for k in ("title", "description"):
            need_str(p[k], f"{where}: {k}", allow_empty=(k == "description"))
        if p["layer"] not in self.layers:
            raise Bad(f"{where}: unknown layer {p['layer']!r} (rule 2)")
        if p["phase"] not in self.layers[p["layer"]]["phases"]:
            raise Bad(f"{where}: phase {p['phase']!r} not in layer {p['layer']!r} (rule 2)")
        for pr in need_str_list(p["principles"], f"{where}: principles"):
            if pr not in self.principles:
                raise Bad(f"{where}: unknown principle {pr!r}")
        self.check_deps(mid, p["depends_on"], f"{where}: depends_on")
        self.milestones[mid] = {
            "layer": p["layer"],
            "phase": p["phase"],
            "depends_on": list(p["depends_on"]),
            "status": "not_started",
            "retired": False,
        }

    def do_MilestoneRevised(self, where, p, _):
        mid = p["id"]
        m = self.milestone(mid, f"{where}: id")
        need_str(p["reason"], f"{where}: reason")
        if not ({"title", "description", "phase", "principles", "depends_on"} & set(p)):
            raise Bad(f"{where}: revises nothing")
        if "title" in p:
            need_str(p["title"], f"{where}: title")
        if "description" in p:
            need_str(p["description"], f"{where}: description", allow_empty=True)
        if "phase" in p:
            if p["phase"] not in self.layers[m["layer"]]["phases"]:
                raise Bad(f"{where}: phase {p['phase']!r} not in layer {m['layer']!r} (rule 2)")
        if "principles" in p:
            for pr in need_str_list(p["principles"], f"{where}: principles"):
                if pr not in self.principles:
                    raise Bad(f"{where}: unknown principle {pr!r}")
        if "depends_on" in p:
            self.check_deps(mid, p["depends_on"], f"{where}: depends_on")
            m["depends_on"] = list(p["depends_on"])
        if "phase" in p:
            m["phase"] = p["phase"]

    def do_MilestoneRetired(self, where, p, _):
        m = self.milestone(p["id"], f"{where}: id")
        need_str(p["reason"], f"{where}: reason")
        m["retired"] = True

    def do_MilestoneStatusChanged(self, where, p, issued_date):
        mid = p["id"]
        m = self.milestone(mid, f"{where}: id")
        if p["from"] not in STATUSES or p["to"] not in STATUSES:
            raise Bad(f"{where}: from/to must be one of {STATUSES} (rule 3)")
        if p["from"] != m["status"]:
            raise Bad(f"{where}: from {p['from']!r} but {mid} is {m['status']!r} (rule 3)")
        if p["to"] == p["from"]:
            raise Bad(f"{where}: to equals from (rule 3)")
        need_str(p["reason"], f"{where}: reason")
        evidence = p["evidence"]
        if not isinstance(evidence, list):
            raise Bad(f"{where}: evidence is not a list")
        if len(evidence) > MAX_EVIDENCE:
            raise Bad(f"{where}: more than {MAX_EVIDENCE} evidence links (rule 8)")
        for e in evidence:
            if not isinstance(e, str) or not URL.match(e):
                raise Bad(f"{where}: evidence {e!r} is not an http(s) URL (rule 3)")
        if "effective_on" in p:
            eff = need_date(p["effective_on"], f"{where}: effective_on")
            if eff > issued_date:
                raise Bad(f"{where}: effective_on {p['effective_on']} is after issued_at")
        if not evidence:
            raise Bad(f"{where}: every status change of the bundled history cites evidence")
        self.status_changes.append((mid, p["to"], p.get("effective_on"), str(issued_date)))
        if p["to"] == "achieved":
            if not evidence:
                raise Bad(f"{where}: achieved needs at least one evidence link (rule 3)")
            unmet = [d for d in m["depends_on"] if self.milestones[d]["status"] != "achieved"]
            if unmet:
                raise Bad(f"{where}: dependencies not achieved: {unmet} (rule 3)")
        m["status"] = p["to"]

    # -- phases

    def do_PhaseTransitioned(self, where, p, _):
        lid = p["layer"]
        if lid not in self.layers:
            raise Bad(f"{where}: unknown layer {lid!r}")
        need_str(p["reason"], f"{where}: reason")
        current = self.phase[lid]
        if p["from"] != current:
            raise Bad(f"{where}: from {p['from']!r} but layer {lid} is in {current!r} (rule 4)")
        phases = self.layers[lid]["phases"]
        idx = phases.index(current)
        if idx + 1 >= len(phases) or p["to"] != phases[idx + 1]:
            raise Bad(f"{where}: to {p['to']!r} is not the phase after {current!r} (rule 4)")
        blockers = sorted(
            mid
            for mid, m in self.milestones.items()
            if m["layer"] == lid and m["phase"] == current and not m["retired"] and m["status"] != "achieved"
        )
        if blockers:
            raise Bad(f"{where}: phase {current} of {lid} still has blockers {blockers} (rule 4)")
        self.phase[lid] = p["to"]

    # -- seasons

    def do_SeasonOpened(self, where, p, _):
        n = p["season"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise Bad(f"{where}: season must be an integer >= 1 (rule 5)")
        if self.open_season is not None:
            raise Bad(f"{where}: season {self.open_season[0]} is still open (rule 5)")
        if self.last_season is not None and n != self.last_season + 1:
            raise Bad(f"{where}: season {n} does not follow season {self.last_season} (rule 5)")
        starts = need_date(p["starts_on"], f"{where}: starts_on")
        need_str(p["intent"], f"{where}: intent")
        for mid in need_str_list(p["focus"], f"{where}: focus"):
            self.milestone(mid, f"{where}: focus", usable=False)
        self.open_season = (n, starts)
        self.last_season = n
        self.seasons[("SeasonOpened", n)] = p

    def do_SeasonReEvaluated(self, where, p, _):
        if self.open_season is None:
            raise Bad(f"{where}: no season is open (rule 5)")
        n, starts = self.open_season
        if p["season"] != n:
            raise Bad(f"{where}: season {p['season']!r} is not the open season {n} (rule 5)")
        ends = need_date(p["ends_on"], f"{where}: ends_on")
        if ends < starts:
            raise Bad(f"{where}: ends_on {ends} is before starts_on {starts} (rule 5)")
        need_str(p["summary"], f"{where}: summary")
        if not isinstance(p["assessments"], list):
            raise Bad(f"{where}: assessments is not a list")
        for i, a in enumerate(p["assessments"]):
            w = f"{where}: assessments[{i}]"
            if not isinstance(a, dict) or set(a) != {"milestone", "note"}:
                raise Bad(f"{w}: keys must be milestone, note")
            self.milestone(a["milestone"], w, usable=False)
            need_str(a["note"], f"{w}.note")
        self.open_season = None
        self.seasons[("SeasonReEvaluated", n)] = p


def check_history(path, layers, milestones, principles):
    ledger = Ledger(layers, milestones, principles)
    count = 0
    with open(path, "rb") as f:
        raw = f.read()
    if raw and not raw.endswith(b"\n"):
        raise Bad(f"{os.path.basename(path)}: last line does not end with a newline")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Bad(f"{os.path.basename(path)}: invalid UTF-8: {e}")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate key in {keys}")
        return dict(pairs)

    def no_special(name):
        raise ValueError(f"{name} is not allowed")

    for line_no, line in enumerate(text.split("\n")[:-1], start=1):
        if not line.strip():
            raise Bad(f"line {line_no}: empty line")
        try:
            obj = json.loads(line, object_pairs_hook=no_duplicates, parse_constant=no_special)
        except ValueError as e:
            raise Bad(f"line {line_no}: invalid JSON: {e}")
        ledger.apply(line_no, obj)
        count += 1
    if ledger.open_season is not None:
        print(f"note: season {ledger.open_season[0]} is still open at the end of the history")
    return ledger, count


def check_pins(ledger):
    """The corrected dates and texts of issue 14, item 6."""
    for (mid, to), dates in PINNED_STATUS.items():
        got = [(eff, day) for m, t, eff, day in ledger.status_changes if m == mid and t == to]
        if [eff for eff, _ in got] != dates:
            raise Bad(f"pinned date: {mid} -> {to} has effective_on {[e for e, _ in got]}, expected {dates}")
        for eff, day in got:
            if day != eff:
                raise Bad(f"pinned date: {mid} -> {to} effective {eff} is issued on {day}, not that day")
    for did, dates in PINNED_TRANSFERS.items():
        got = [eff for d, eff in ledger.transfers if d == did]
        if got != dates:
            raise Bad(f"pinned date: transfers of {did} are effective on {got}, expected {dates}")
    for typ, season, key, needle, present in PINNED_TEXT:
        p = ledger.seasons.get((typ, season))
        if p is None:
            raise Bad(f"pinned text: no {typ} for season {season}")
        text = json.dumps(p[key], ensure_ascii=False)
        if (needle in text) != present:
            raise Bad(f"pinned text: {typ} {season} {key} {'lacks' if present else 'still has'} {needle!r}")


def check_demo_matches_framework(ledger, s13):
    """The demo's decision story must end on the framework's (today's) map."""
    demo, fw = ledger.s13.decisions, s13["decisions"]
    if set(demo) != set(fw):
        raise Bad(f"demo decisions {sorted(set(demo) ^ set(fw))} are not in both the demo and the framework")
    for did, d in sorted(fw.items()):
        if wv.jcs(demo[did]["current"]) != wv.jcs(d["current"]):
            raise Bad(f"decision {did}: the demo ends on {demo[did]['current']}, the framework says today is {d['current']}")
        if wv.jcs(demo[did]["target"]) != wv.jcs(d.get("target")):
            raise Bad(f"decision {did}: demo target {demo[did]['target']} differs from the framework's {d.get('target')}")
    for bid in s13["bodies"]:
        b = ledger.s13.bodies.get(bid)
        if b is None or b["retired"]:
            raise Bad(f"body {bid}: defined in the framework but not defined (or retired) at the end of the demo")


def check_no_as_in_source(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if "as in the source" in line:
                    raise Bad(f"{os.path.basename(path)}:{n}: says a fact is 'as in the source' (no source states it)")


def main(argv):
    frameworks = DEFAULT_FRAMEWORKS
    history = DEFAULT_HISTORY
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--frameworks" and args:
            frameworks = args.pop(0)
        elif a == "--history" and args:
            history = args.pop(0)
        else:
            print(__doc__.strip().splitlines()[-3], file=sys.stderr)
            return 2
    try:
        check_framework(os.path.join(frameworks, "l2beat-stages.toml"))
        fw, layers, milestones, principles, s13 = check_framework(os.path.join(frameworks, "optimism.toml"))
        ledger, count = check_history(history, layers, milestones, principles)
        check_pins(ledger)
        check_demo_matches_framework(ledger, s13)
        check_no_as_in_source([os.path.join(frameworks, "optimism.toml"), history])
    except Bad as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    phases = ", ".join(f"{k}={v}" for k, v in ledger.phase.items())
    dec = ledger.s13.decisions
    at_target = sum(1 for d in dec.values() if d["target"] is not None and wv.jcs(d["target"]) == wv.jcs(d["current"]))
    foundation = sum(1 for d in dec.values()
                     if any(ledger.s13.bodies[b]["kind"] == "foundation" for b in d["current"]["deciders"]))
    print(f"ok: both frameworks parse ({len(s13['bodies'])} bodies, {len(s13['decisions'])} decisions); "
          f"{count} history lines replay cleanly; phases {phases}; {len(ledger.transfers)} authority transfers; "
          f"decisions: {len(dec)}, {at_target} at target, {foundation} decided by the Foundation; "
          f"{sum(len(v) for v in PINNED_STATUS.values()) + sum(len(v) for v in PINNED_TRANSFERS.values())} pinned dates hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
