"""tools/check_history.py catches what it promises to catch (run: python3 -m unittest discover -s tools).

Each test copies the bundled frameworks and demo history to a temporary directory, breaks one
thing, and checks that the checker fails naming it; the untouched copy must pass.
"""
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_history  # noqa: E402

ROOT = os.path.join(HERE, "..")


class Mutated:
    def __init__(self):
        self.dir = tempfile.mkdtemp()
        self.fw = os.path.join(self.dir, "frameworks")
        shutil.copytree(os.path.join(ROOT, "core", "frameworks"), self.fw)
        self.history = os.path.join(self.dir, "history.jsonl")
        shutil.copy(os.path.join(ROOT, "src", "cli", "demo", "optimism-history.jsonl"), self.history)

    def edit_lines(self, fn):
        with open(self.history, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        fn(lines)
        with open(self.history, "w", encoding="utf-8") as f:
            for obj in lines:
                f.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def edit_toml(self, old, new):
        path = os.path.join(self.fw, "optimism.toml")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert old in text, old
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))

    def run(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = check_history.main(["--frameworks", self.fw, "--history", self.history])
        shutil.rmtree(self.dir)
        return code, err.getvalue()


def line(lines, typ, **match):
    hits = [x for x in lines if x["type"] == typ and all(x["payload"].get(k) == v for k, v in match.items())]
    assert hits, (typ, match)
    return hits[0]


class CheckHistoryCatches(unittest.TestCase):
    def fails(self, m, needle):
        code, err = m.run()
        self.assertEqual(code, 1, err)
        self.assertIn(needle, err)

    def test_the_bundled_data_passes(self):
        code, err = Mutated().run()
        self.assertEqual(code, 0, err)

    def test_a_pinned_milestone_date_moved_back(self):
        m = Mutated()

        def f(lines):
            x = line(lines, "MilestoneStatusChanged", id="T-A2")
            x["payload"]["effective_on"] = "2024-08-01"
        m.edit_lines(f)
        self.fails(m, "pinned date: T-A2 -> achieved")

    def test_a_pinned_transfer_date_moved(self):
        m = Mutated()

        def f(lines):
            line(lines, "AuthorityTransferred", decision="sequencer-eth")["payload"]["effective_on"] = "2025-02-26"
        m.edit_lines(f)
        self.fails(m, "pinned date: transfers of sequencer-eth")

    def test_a_transfer_from_another_design_is_rule_11(self):
        m = Mutated()

        def f(lines):
            line(lines, "AuthorityTransferred", decision="sequencer-eth")["payload"]["from"]["process"] = "vote"
        m.edit_lines(f)
        self.fails(m, "rule 11")

    def test_an_unsourced_statement(self):
        m = Mutated()

        def f(lines):
            x = line(lines, "SeasonOpened", season=8)
            x["payload"]["intent"] = "Season 8 is about interoperability."
        m.edit_lines(f)
        self.fails(m, "cites no http(s) source")

    def test_a_status_change_without_evidence(self):
        m = Mutated()

        def f(lines):
            line(lines, "MilestoneStatusChanged", id="S-1")["payload"]["evidence"] = []
        m.edit_lines(f)
        self.fails(m, "cites evidence")

    def test_a_framework_source_at_a_repository_root(self):
        m = Mutated()
        m.edit_toml('source = "https://github.com/l2beat/l2beat/blob/main/packages/config/src/projects/optimism/optimism.ts"',
                    'source = "https://github.com/l2beat/l2beat"')
        self.fails(m, "repository root")

    def test_a_non_canonical_framework_design(self):
        m = Mutated()
        m.edit_toml('vetoes = [{ body = "citizens-house" }, { body = "foundation" }, { body = "token-house" }]',
                    'vetoes = [{ body = "token-house" }, { body = "foundation" }, { body = "citizens-house" }]')
        self.fails(m, "rule 10")

    def test_a_framework_design_the_demo_does_not_reach(self):
        m = Mutated()
        m.edit_toml('signers = { m = 10, n = 13 }', 'signers = { m = 9, n = 13 }')
        self.fails(m, "decision emergency-security: the demo ends on")

    def test_a_dependency_said_to_be_sourced(self):
        m = Mutated()
        m.edit_toml("the dependency on S-2 (no source states it)", "the phase; depends on S-2 as in the source")
        self.fails(m, "as in the source")

    def test_a_framework_decision_without_source(self):
        m = Mutated()
        path = os.path.join(m.fw, "optimism.toml")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r'(\[\[decisions\]\]\nid = "implementation"(?:\n(?!\[\[).*)*?)\nsource = "[^"]*"', r"\1", text, count=1)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        self.fails(m, "no source URL")


if __name__ == "__main__":
    unittest.main()
