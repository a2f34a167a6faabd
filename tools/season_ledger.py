#!/usr/bin/env python3
"""Writes a ledger with one long Season, as `waymark apply` lines (issue 17, goal 2: the
memory of `waymark site` when one Season holds most of the ledger).

Writes FRAMEWORK (the tests' tiny framework: milestones M1, M2, M3, E1) and LINES: a
`SeasonOpened` of Season 1 (focus M1 and E1), then N `MilestoneStatusChanged` by the
founder alice, M1 and E1 in turn between not_started and in_progress (the lines of
`status_changes` in tests/limits.rs, ~260 bytes each), and with --close a
`SeasonReEvaluated` at the end (without it the Season is open and runs to the head).

    python3 tools/season_ledger.py 250000 tiny.toml season.jsonl
    waymark --db sqlite://season.db --keys K --ledger test init --framework tiny.toml --founder alice
    waymark --db sqlite://season.db --keys K apply season.jsonl
    /usr/bin/time -v waymark --db sqlite://season.db --keys K site --out site/
"""
import argparse
import json
from pathlib import Path

# The tests' tiny framework, as tests/common/mod.rs uses it.
FRAMEWORK = (Path(__file__).resolve().parent.parent / "tests/fixtures/tiny.toml").read_text()


def line(kind, payload):
    return json.dumps({"as": "alice", "type": kind, "payload": payload}) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="status changes in the Season")
    ap.add_argument("framework", help="where to write the framework (TOML)")
    ap.add_argument("lines", help="where to write the `apply` lines (JSONL)")
    ap.add_argument("--close", action="store_true", help="end with a SeasonReEvaluated")
    a = ap.parse_args()
    with open(a.framework, "w") as f:
        f.write(FRAMEWORK)
    state = {"M1": False, "E1": False}
    with open(a.lines, "w") as f:
        f.write(line("SeasonOpened", {"season": 1, "starts_on": "2025-01-01",
                                      "intent": "A long Season", "focus": ["M1", "E1"]}))
        for k in range(a.n):
            m = "M1" if k % 2 == 0 else "E1"
            frm, to = ("in_progress", "not_started") if state[m] else ("not_started", "in_progress")
            state[m] = not state[m]
            f.write(line("MilestoneStatusChanged", {
                "id": m, "from": frm, "to": to,
                "reason": f"update {k}: the working group reported progress on this milestone at the weekly call",
                "evidence": [f"https://gov.example.org/t/{m}/{k}"]}))
        if a.close:
            f.write(line("SeasonReEvaluated", {"season": 1, "ends_on": "2025-12-31",
                                               "summary": "A long Season", "assessments": []}))


if __name__ == "__main__":
    main()
