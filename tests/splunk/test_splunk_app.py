"""The Splunk app detc ships: conf keys the spec defines, a reproducible package, and Splunk AppInspect."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from addonfactory_splunk_conf_parser_lib import TABConfigParser

from backends.splunk.app import app_id, app_version
from backends.splunk.emit import SplunkEmitter, conf_path, stanza_settings
from backends.splunk.target import SplTarget
from compiler.build import compile_rules
from compiler.profile import DEFAULT_PROFILE, Profile
from compiler.rules import load_rule
from compiler.target import emit
from tests.support import DATA, SEED_RULE

SPL = SplTarget()
EMITTER = SplunkEmitter()
SPEC_KEYS = DATA / "savedsearches.conf.spec.keys"

ACCEPTED_APPINSPECT_RESULTS: dict[str, str] = {}
"""AppInspect checks allowed to end other than success / not_applicable, with the reason. None today:
every precert check tagged ``cloud`` passes or does not apply (the app has no inputs, scripts or UI)."""


def spec_patterns() -> list[re.Pattern[str]]:
    lines = [line.strip() for line in SPEC_KEYS.read_text("utf-8").splitlines()]
    keys = [line for line in lines if line and not line.startswith("#")]
    return [re.compile("".join(r"[^=\s]+" if part.startswith("<") else re.escape(part)
                               for part in re.split(r"(<[^>]+>)", key)) + "$") for key in keys]


def defined(key: str) -> bool:
    return any(p.match(key) for p in spec_patterns())


def app_artifacts(profile: Profile = DEFAULT_PROFILE) -> dict[str, bytes]:
    results, errors = compile_rules([load_rule(SEED_RULE)], [SPL], profile)
    assert not errors
    return {a.path: a.data for a in emit(EMITTER, results, profile)}


@pytest.mark.parametrize(
    ("key", "known"),
    [("counttype", True), ("action.notable", True), ("action.risk.param._risk", True),
     ("alert_type", False), ("alert_comparator", False), ("alert_threshold", False), ("actions", False)],
    ids=["counttype", "action", "action-parameter", "alert_type", "alert_comparator", "alert_threshold", "actions"],
)
def test_the_spec_key_list_tells_conf_keys_from_rest_parameters(key: str, known: bool) -> None:
    assert defined(key) is known


def test_every_key_the_emitter_writes_is_defined_by_the_spec(rule_from) -> None:
    rules = [load_rule(SEED_RULE), rule_from({"sel": {"eventName": "StopLogging"}, "condition": "sel"})]
    results, errors = compile_rules(rules, [SPL], DEFAULT_PROFILE)
    assert not errors
    for result in results:
        keys = [key for key, _ in stanza_settings(result.rule, result.compiled["spl"])]
        assert [k for k in keys if not defined(k)] == []
        # an action is enabled as action.<name> = 1 before its parameters mean anything
        for action in ("notable", "risk"):
            assert dict(stanza_settings(result.rule, result.compiled["spl"]))[f"action.{action}"] == "1"


def test_the_app_holds_its_conf_files_and_its_package_holds_the_app() -> None:
    files = app_artifacts()
    assert sorted(files) == [
        "splunk/aws_kms_imported_key_material_deleted.spl",
        "splunk/detc.tgz",
        "splunk/detc/app.manifest",
        "splunk/detc/default/app.conf",
        "splunk/detc/default/savedsearches.conf",
        "splunk/detc/metadata/default.meta",
    ]
    with tarfile.open(fileobj=io.BytesIO(files["splunk/detc.tgz"]), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [
            "detc/app.manifest", "detc/default/app.conf", "detc/default/savedsearches.conf", "detc/metadata/default.meta"]
        for member in members:
            assert (member.mtime, member.uid, member.gid, member.mode) == (0, 0, 0, 0o644)
            handle = tar.extractfile(member)
            assert handle is not None and handle.read() == files[f"splunk/{member.name}"]
    assert app_artifacts() == files  # same inputs, same bytes
    parser = TABConfigParser()
    parser.read_file(io.StringIO(files["splunk/detc/default/app.conf"].decode()))
    assert parser.get("package", "id") == "detc"
    assert parser.get("id", "version") == parser.get("launcher", "version") == "2026.6.18"
    meta = files["splunk/detc/metadata/default.meta"].decode()
    assert "\n[]\naccess = read : [ * ], write : [ admin, sc_admin ]\nexport = system\n" in meta
    manifest = json.loads(files["splunk/detc/app.manifest"])
    assert manifest["info"]["id"] == {"group": None, "name": "detc", "version": "2026.6.18"}


@pytest.mark.parametrize(
    ("name", "expected"), [("default", "detc"), ("acme", "detc_acme"), ("globex-eu", "detc_globex_eu")],
    ids=["default", "client", "client-with-hyphen"],
)
def test_each_client_gets_its_own_app(name: str, expected: str) -> None:
    profile = Profile(name=name)
    assert app_id(profile) == expected
    assert conf_path(profile) == f"splunk/{expected}/default/savedsearches.conf"


@pytest.mark.parametrize(
    ("dates", "version"),
    [(["2024-01-05", "2026-06-18"], "2026.6.18"), (["2025-12-31"], "2025.12.31"), ([""], "0.0.0")],
    ids=["newest", "one", "none"],
)
def test_the_app_version_is_the_newest_rule_date(dates: list[str], version: str) -> None:
    assert app_version(dates) == version


def test_the_package_passes_splunk_appinspect_for_splunk_cloud(tmp_path: Path) -> None:
    """``splunk-appinspect inspect --mode precert --included-tags cloud``, offline."""
    package = tmp_path / "detc.tgz"
    package.write_bytes(app_artifacts()["splunk/detc.tgz"])
    report = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from splunk_appinspect.main import execute; sys.exit(execute())",
         "inspect", str(package), "--mode", "precert", "--included-tags", "cloud",
         "--data-format", "json", "--output-file", str(report)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    data = json.loads(report.read_text())
    (app,) = data["reports"]
    unexpected = {
        check["name"]: (check["result"], [m.get("message") for m in check.get("messages", [])])
        for group in app["groups"] for check in group["checks"]
        if check["result"] not in ("success", "not_applicable") and check["name"] not in ACCEPTED_APPINSPECT_RESULTS
    }
    assert unexpected == {}
    assert app["summary"]["failure"] == app["summary"]["error"] == 0
    assert app["summary"]["success"] > 50  # the cloud checks ran
