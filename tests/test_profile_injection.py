"""Client-profile values cannot inject: each is refused with one line at profile load, or it lands
in artifacts whose structure (SPL commands, conf keys, paths, JSON/TOML/YAML documents) is exactly
the structure the same client gets without it."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from compiler.build import build
from compiler.clients import ProfileError, apply_profile, load_profile
from compiler.fixtures import load_fixtures
from compiler.rules import load_rule
from compiler.target import load_registry
from compiler.testing import run_rule, with_client_cases
from tests.support import SEED_RULE

REGISTRY = load_registry()
KNOWN = REGISTRY.settings()
SEED = load_rule(SEED_RULE)

HOSTILE = [
    "userIdentity.arn | delete", "../../etc", "x\n[evil]\nsearch = | delete", 'a" OR "1"="1', "x$y$", "${jndi:x}",
    "a b", "a,b", "logs-*", "aws", "a\\", "'", "`id`", "a\r\nb", "..", ".", "*", "a{}.b", "a{}", "a.b.c",
    "arn:aws:sns:eu-west-1:111122223333:t", "arn:aws:sns:eu-west-1:111122223333:t|x", "SA-App", "Zz_9", "",
]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(alphabet=st.sampled_from(list("aZ9_.-*@{}|\"'\\/ $`;,:\n#[]()=<>!&+?")), max_size=12))

SETTINGS = sorted(
    (target, key) for target, kinds in REGISTRY.setting_kinds().items() for key in kinds
    if isinstance(KNOWN[target][key], (str, list))
)
MAPPED = sorted(name for name in KNOWN if name != "sigma")


def test_every_text_setting_of_every_target_has_a_kind():
    for target, defaults in KNOWN.items():
        for key, default in defaults.items():
            if isinstance(default, (str, list, tuple)):
                assert key in REGISTRY.setting_kinds()[target], (target, key)


def _profile(tmp: Path, data: dict[str, Any]):
    path = tmp / f"{data['name']}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_profile(path, KNOWN, REGISTRY)


def _scan_pipes(query: str) -> int:
    """``|`` outside double-quoted strings (SPL's only string quote in the search command) and
    outside single-quoted field names of ``where``."""
    count, quote, escaped = 0, "", False
    for ch in query:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "|":
            count += 1
    return count


def _conf_keys(text: str) -> list[tuple[str, str]]:
    """(stanza, key) of every setting of a .conf file, continued lines joined."""
    keys: list[tuple[str, str]] = []
    stanza = ""
    logical = text.replace("\\\n", "\x00").split("\n")
    for line in logical:
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            stanza = line
            continue
        key, sep, _ = line.partition(" = ")
        assert sep, line
        keys.append((stanza, key))
    return keys


class _Tolerant(yaml.SafeLoader):
    pass


_Tolerant.add_multi_constructor("!", lambda loader, suffix, node: None)


def _structure(files: dict[str, bytes], query_of: dict[str, str]) -> dict[str, Any]:
    """What must not move when a profile value changes: paths, SPL commands, conf keys, and the
    keys of every JSON/TOML/YAML document (values aside)."""
    out: dict[str, Any] = {"paths": sorted(files)}
    for path, data in files.items():
        if path.endswith(".tgz"):
            continue  # the Splunk app's package: the same files as its folder, which are read here
        text = data.decode("utf-8")
        if path.endswith(".conf"):
            out[path] = _conf_keys(text)
        elif path.endswith(".ndjson"):
            out[path] = [sorted(json.loads(line)) for line in text.splitlines()]
        elif path.endswith(".json"):
            doc = json.loads(text)
            out[path] = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        elif path.endswith(".toml"):
            out[path] = sorted(tomllib.loads(text))
        elif path.endswith(".yaml"):
            doc = yaml.load(text, Loader=_Tolerant)
            out[path] = {k: sorted(v) if isinstance(v, dict) else v for k, v in doc.items() if k != "Description"}
    if "spl" in query_of:
        out["spl pipes"] = _scan_pipes(query_of["spl"])
    return out


def _artifacts(profile) -> tuple[dict[str, bytes], dict[str, str]]:
    rule = apply_profile(SEED, profile)
    result = build([rule], REGISTRY, REGISTRY.select(None), profile)
    assert not result.errors, [str(e) for e in result.errors]
    compiled = result.results[0].compiled
    for name, one in compiled.items():
        REGISTRY.get(name).evaluator(one.query)  # each query still parses as its language
    return result.files, {name: one.query for name, one in compiled.items()}


def _refused_or_contained(tmp: Path, data: dict[str, Any]) -> None:
    try:
        profile = _profile(tmp, data)
    except ProfileError as err:
        line = str(err)
        assert "\n" not in line and "\r" not in line
        assert line.startswith(f"{tmp.name}/") or line.startswith(str(tmp)) or line.startswith(data["name"])
        return
    baseline = _profile(tmp, {"name": data["name"]})
    files, queries = _artifacts(profile)
    base_files, base_queries = _artifacts(baseline)
    assert _structure(files, queries) == _structure(base_files, base_queries)


@given(setting=st.sampled_from(SETTINGS), value=VALUES)
def test_hostile_target_settings_are_refused_or_contained(tmp_path: Path, setting: tuple[str, str], value: str):
    target, key = setting
    given_value: Any = [value] if isinstance(KNOWN[target][key], list) else value
    _refused_or_contained(tmp_path, {"name": "hostile", "targets": {target: {key: given_value}}})


@given(target=st.sampled_from(MAPPED), value=VALUES, as_source=st.booleans())
def test_hostile_field_mappings_are_refused_or_contained(tmp_path: Path, target: str, value: str, as_source: bool):
    default_source = {"kql": "user.name", "lucene": "user.name", "eql": "user.name", "spl": "userIdentity.arn", "eventbridge": "userAgent"}
    table = {value: "client_field"} if as_source else {default_source[target]: value}
    _refused_or_contained(tmp_path, {"name": "hostile", "field_mappings": {target: table}})


@pytest.mark.parametrize(
    ("target", "key", "value", "message"),
    [
        ("spl", "risk_object_field", "userIdentity.arn | delete",
         "targets.spl.risk_object_field: 'userIdentity.arn | delete' is not a Splunk field name"),
        ("spl", "dispatch_app", "../../etc", "targets.spl.dispatch_app: '../../etc' is not a Splunk app name"),
        ("spl", "index", 'aws" OR index="*', "targets.spl.index: 'aws\" OR index=\"*' is not a Splunk index name"),
        ("spl", "security_domain", "threat\naction.script = 1",
         "targets.spl.security_domain: 'threat\\naction.script = 1' is not a Splunk Enterprise Security name"),
        ("kql", "index", ["logs-*,secret"], "targets.kql.index: 'logs-*,secret' is not an Elasticsearch index pattern"),
        ("kql", "rule_id_namespace", "a/b", "targets.kql.rule_id_namespace: 'a/b' is not a rule-id namespace"),
        ("eventbridge", "event_bus", "bus\nResources: {}",
         "targets.eventbridge.event_bus: 'bus\\nResources: {}' is not an EventBridge event bus name or ARN"),
        ("eventbridge", "alert_topic_arn", "${var.x}", "targets.eventbridge.alert_topic_arn: '${var.x}' is not an SNS topic ARN"),
        ("eventbridge", "name_prefix", "../", "targets.eventbridge.name_prefix: '../' is not an EventBridge rule name prefix"),
        ("eventbridge", "max_pattern_chars", 0, "targets.eventbridge.max_pattern_chars: 0 is out of range (1 to 4096)"),
    ],
    ids=["spl-pipe", "spl-app-path", "spl-index-quote", "spl-conf-newline", "kql-index-comma", "kql-namespace",
         "bus-yaml", "topic-template", "prefix-path", "pattern-size"],
)
def test_injection_examples_are_one_line_at_profile_load(tmp_path: Path, target, key, value, message):
    with pytest.raises(ProfileError) as info:
        _profile(tmp_path, {"name": "hostile", "targets": {target: {key: value}}})
    assert str(info.value).startswith(str(tmp_path / "hostile.yml") + ": " + message) or message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"userIdentity.arn": "x | delete"}, "field_mappings.spl: 'x | delete' is not a Splunk field name"),
        ({"userIdentity.arn | eval": "x"}, "field_mappings.spl: 'userIdentity.arn | eval' is not a Splunk field name"),
    ],
    ids=["dest", "source"],
)
def test_field_mapping_injection_is_one_line(tmp_path: Path, table, message):
    with pytest.raises(ProfileError, match="^.*" + message.replace("|", r"\|").replace(".", r"\.")):
        _profile(tmp_path, {"name": "hostile", "field_mappings": {"spl": table}})


EXCLUSION_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(list("*?\\\"'|:()[]{}$` ")),
    min_size=1, max_size=16,
).filter(lambda v: v == v.strip())


@given(value=EXCLUSION_TEXT)
def test_exclusion_values_are_data_on_every_target(tmp_path: Path, value: str):
    """An exclusion value, however hostile, is matched literally: the seed's match case with that
    value no longer matches on any target (or the target says it is unsupported), and no query
    fails to parse."""
    profile = _profile(tmp_path, {"name": "hostile", "exclusions": [{"field": "userAgent", "values": [value]}]})
    rule = apply_profile(SEED, profile)
    fixtures = load_fixtures(SEED)
    assert fixtures is not None
    fixtures = with_client_cases(fixtures, rule, profile)
    results = run_rule(rule, fixtures, REGISTRY.select(None), profile)
    failed = [(r.target, r.case, r.actual, r.message) for r in results if r.status == "fail"]
    assert not failed
    assert any(r.case.startswith("client hostile exclusion") and r.status == "pass" for r in results)
