"""tools/fetch-corpus, without the network: its layout, its derivations, and its pins against the corpus."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import ROOT


def _load() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("fetch_corpus", str(ROOT / "tools" / "fetch-corpus"))
    spec = importlib.util.spec_from_loader("fetch_corpus", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fetch_corpus"] = module  # dataclasses look their module up
    loader.exec_module(module)
    return module


FETCH = _load()


def test_sources_are_copied_into_the_corpus_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "clone"
    for name, text in {
        "rules/cloud/aws/cloudtrail/a.yml": "logsource:\n  product: aws\n",
        "rules/cloud/aws/b.yml": "logsource:\n  product: aws\n",
        "rules/cloud/azure/c.yml": "logsource:\n  product: azure\n",
        "unsupported/cloud/d.yml": "logsource:\n    product: aws\n",
        "unsupported/cloud/e.yml": "logsource:\n    product: gcp\n",
        "LICENSE": "DRL",
    }.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    asked: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(FETCH, "checkout", lambda repo, commit, patterns, work: asked.append((repo, patterns)) or tree)
    out = tmp_path / "corpus"
    for source in FETCH.SOURCES[:2]:
        FETCH.copy_source(source, tmp_path / "work", out)
    found = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert found == [
        "sigmahq-aws/LICENSE.md",
        "sigmahq-aws/rules/cloud/aws/b.yml",
        "sigmahq-aws/rules/cloud/aws/cloudtrail/a.yml",
        "sigmahq-aws/unsupported/cloud/d.yml",
    ]
    assert asked[0] == ("SigmaHQ/sigma", ["/rules/cloud/aws/**/*.yml", "/rules-placeholder/cloud/aws/**/*.yml", "/LICENSE"])


def test_json_examples_are_numbered_among_json_looking_blocks() -> None:
    page = "text\n```\nFileName.json\n```\n```\n{\"a\": 1}\n```\n  ```json\n  {\"b\": 2,}\n  ```\n```\n[1]\n```\n"
    assert FETCH.json_examples(page) == {1: '{"a": 1}\n', 3: "[1]\n"}


def test_pipeline_input_is_one_original_event_per_document() -> None:
    expected = {"expected": [{"event": {"original": '{"a":1}'}}, {"event": {}}, {"message": "x"}]}
    assert FETCH.pipeline_input(expected) == '{"a":1}\n\n\n'


def test_pins_are_full_commits() -> None:
    commits = [s.commit for s in FETCH.SOURCES] + [p[1] for p in FETCH.DOC_PAGES] + list(FETCH.ELASTIC_FILES.values())
    assert all(re.fullmatch(r"[0-9a-f]{40}", c) for c in commits)


def test_pins_are_those_the_corpus_was_made_from(corpus: Path) -> None:
    listed = (corpus / "SOURCES.md").read_text()
    for commit in {s.commit for s in FETCH.SOURCES} | {p[1] for p in FETCH.DOC_PAGES}:
        assert commit in listed, commit
    manifest = json.loads((corpus / "elastic-integration-cloudtrail" / "manifest.json").read_text())
    pinned = {e["file"]: e["commit"] for e in manifest}
    assert {name: pinned[name] for name in FETCH.ELASTIC_FILES if name in pinned} == {
        name: c for name, c in FETCH.ELASTIC_FILES.items() if name in pinned
    }
    assert len(set(FETCH.ELASTIC_FILES) & set(pinned)) >= 28


def test_derivations_reproduce_the_corpus(corpus: Path) -> None:
    kms = corpus / "cloudtrail" / "aws-docs-kms"
    made = {
        f"{md.stem}.{n:02d}.json": text
        for md in sorted((kms / "markdown").glob("*.md"))
        for n, text in FETCH.json_examples(md.read_text(encoding="utf-8")).items()
    }
    assert len(made) >= 50
    assert all((kms / name).read_text(encoding="utf-8") == text for name, text in made.items())
    pairs = corpus / "elastic-integration-cloudtrail" / "_dev" / "test" / "pipeline"
    logs = sorted(pairs.glob("*.log"))
    assert len(logs) == 21
    for log in logs:
        expected = json.loads((pairs / (log.name + "-expected.json")).read_text())
        assert FETCH.pipeline_input(expected) == log.read_text(), log.name


def test_panther_records_are_the_cloudtrail_rules_test_logs() -> None:
    files = [
        ("rules/b.yml", {"LogTypes": ["AWS.CloudTrail"], "RuleID": "B", "Tests": [
            {"Name": "one", "ExpectedResult": True, "Log": {"eventName": "X"}},
            {"Name": "two", "ExpectedResult": False, "Log": '{"eventName": "Y"}', "Mocks": []},
        ]}),
        ("rules/a.yml", {"LogTypes": ["Okta.SystemLog"], "RuleID": "A", "Tests": [{"Name": "x", "Log": {"a": 1}}]}),
    ]
    records, index = FETCH.panther_records(files)
    assert records == ['{"eventName": "X"}', '{"eventName": "Y"}']
    assert [json.loads(line) for line in index] == [
        {"line": 1, "source_file": "rules/b.yml", "rule_id": "B", "test_name": "one",
         "panther_expected_result": True, "has_mocks": False},
        {"line": 2, "source_file": "rules/b.yml", "rule_id": "B", "test_name": "two",
         "panther_expected_result": False, "has_mocks": True},
    ]


def _git(*args: str, cwd: Path) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": os.environ["PATH"], "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


def test_a_sparse_clone_at_the_pinned_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The git side, against a local repository: only the pinned commit, only the files asked for."""
    upstream = tmp_path / "host" / "owner" / "repo.git"  # as the host names it: HOST/owner/repo.git
    for name, text in {"rules/cloud/aws/x/a.yml": "a: 1\n", "rules/other/b.yml": "b: 1\n", "LICENSE": "L\n"}.items():
        (upstream / name).parent.mkdir(parents=True, exist_ok=True)
        (upstream / name).write_text(text)
    _git("init", "-q", cwd=upstream)
    _git("add", "-A", cwd=upstream)
    _git("commit", "-qm", "pinned", cwd=upstream)
    pinned = _git("rev-parse", "HEAD", cwd=upstream)
    (upstream / "rules/cloud/aws/x/a.yml").write_text("a: 2\n")
    _git("commit", "-qam", "later", cwd=upstream)
    monkeypatch.setattr(FETCH, "HOST", (tmp_path / "host").as_uri())
    source = FETCH.Source("owner/repo", pinned, "test", copies=(("rules/cloud/aws/**/*.yml", "mine/aws"), ("LICENSE", "mine/LICENSE.md")))
    out = tmp_path / "corpus"
    assert FETCH.copy_source(source, tmp_path / "work", out) == 2
    assert (out / "mine" / "aws" / "x" / "a.yml").read_text() == "a: 1\n"  # the pinned commit, not the later one
    assert (out / "mine" / "LICENSE.md").read_text() == "L\n"
    clone = tmp_path / "work" / f"owner__repo@{pinned}"
    assert not (clone / "rules" / "other").exists()  # sparse: files not asked for are not checked out


def test_regression_rules_are_those_of_the_corpus(corpus: Path) -> None:
    folder = corpus / "sigmahq-regression"
    held = sorted(p.relative_to(folder).as_posix() for p in folder.glob("rules*/**/*.yml"))
    assert FETCH.regression_rules() == held
    assert len(held) == 153


def test_regression_suite_follows_each_rules_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = tmp_path / "host" / "SigmaHQ" / "sigma.git"
    sample = "regression_data/rules/windows/x/info.yml"
    for name, text in {
        "rules/windows/x.yml": f"title: x\nregression_tests_path: {sample}\n",
        "rules/windows/y.yml": "title: y\nregression_tests_path: regression_data/rules/windows/y/info.yml\n",
        sample: "id: x\n", "regression_data/rules/windows/x/x.evtx": "evtx", "regression_data/rules/windows/x/x.json": "{}",
        "regression_data/rules/windows/y/info.yml": "id: y\n",
        "tests/thor.yml": "t\n", "tests/logsource.json": "{}\n", "LICENSE": "L\n",
    }.items():
        (upstream / name).parent.mkdir(parents=True, exist_ok=True)
        (upstream / name).write_text(text)
    _git("init", "-q", cwd=upstream)
    _git("add", "-A", cwd=upstream)
    _git("commit", "-qm", "pinned", cwd=upstream)
    listed = tmp_path / "rules.txt"
    listed.write_text("# a comment\nrules/windows/x.yml\n")
    monkeypatch.setattr(FETCH, "HOST", (tmp_path / "host").as_uri())
    monkeypatch.setattr(FETCH, "SIGMA", ("SigmaHQ/sigma", _git("rev-parse", "HEAD", cwd=upstream), "DRL 1.1"))
    monkeypatch.setattr(FETCH, "REGRESSION_RULES", listed)
    out = tmp_path / "corpus"
    assert FETCH.copy_regression(tmp_path / "work", out) == 7
    found = sorted(p.relative_to(out / "sigmahq-regression").as_posix() for p in out.rglob("*") if p.is_file())
    assert found == [
        "LICENSE", "regression_data/rules/windows/x/info.yml", "regression_data/rules/windows/x/x.evtx",
        "regression_data/rules/windows/x/x.json", "rules/windows/x.yml", "tests/logsource.json", "tests/thor.yml",
    ]
