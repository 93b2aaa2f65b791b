"""Splunk artifacts: savedsearches.conf read back with a real .conf parser, and the .spl files."""

from __future__ import annotations

import io
import json

import pytest
from addonfactory_splunk_conf_parser_lib import TABConfigParser

from backends.splunk.conf import conf_value, prose, stanza_text
from backends.splunk.emit import CONF_PATH, SplunkEmitter, cron_schedule, earliest_time
from backends.splunk.target import SplTarget
from compiler.build import compile_rules
from compiler.errors import EmitError
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule, load_rules
from compiler.target import RuleResult, emit
from tests.support import ROOT, SEED_RULE, case_id

SPL = SplTarget()
EMITTER = SplunkEmitter()


def read_conf(data: bytes) -> dict[str, dict[str, str]]:
    """Parse with Splunk's addonfactory-splunk-conf-parser-lib and return plain values.

    That parser keeps each continuation backslash before the line break it joins; Splunk itself
    turns ``\\`` + line break into the line break (AppInspect's ``join_lines``), so that one
    sequence is folded here and nothing else.
    """
    parser = TABConfigParser()
    parser.read_file(io.StringIO(data.decode("utf-8")))
    return {
        section: {
            key: value.replace("\\\n", "\n")
            for key, value in parser.items(section)
            if key != "__name__" and not key.startswith("__COMMENTS__")
        }
        for section in parser.sections()
    }


def emitted(rules) -> dict[str, bytes]:
    results, errors = compile_rules(rules, [SPL], DEFAULT_PROFILE)
    assert not errors
    return {a.path: a.data for a in emit(EMITTER, results, DEFAULT_PROFILE)}


def test_seed_stanza_reads_back_with_every_setting():
    rule = load_rule(SEED_RULE)
    files = emitted([rule])
    conf = read_conf(files[CONF_PATH])
    assert list(conf) == ["AWS KMS Imported Key Material Deleted"]
    stanza = conf["AWS KMS Imported Key Material Deleted"]
    search = SPL.compile(rule, DEFAULT_PROFILE).query
    assert stanza["search"] == search
    assert stanza["description"] == rule.sigma.description.strip()
    assert stanza["description"].count("\n") == 6  # the rule's seven lines, continued with backslashes
    assert stanza["cron_schedule"] == "*/5 * * * *"
    assert stanza["dispatch.earliest_time"] == "-6m"
    assert stanza["dispatch.latest_time"] == "now"
    assert stanza["enableSched"] == "1"
    assert stanza["disabled"] == "0"
    assert stanza["counttype"] == "number of events"
    assert stanza["relation"] == "greater than"
    assert stanza["quantity"] == "0"
    assert stanza["alert.track"] == "1"
    assert stanza["alert.severity"] == "4"
    for rest_parameter in ("alert_type", "alert_comparator", "alert_threshold", "actions"):
        assert rest_parameter not in stanza  # REST API names, not savedsearches.conf keys
    assert stanza["action.correlationsearch.enabled"] == "1"
    assert stanza["action.correlationsearch.label"] == "AWS KMS Imported Key Material Deleted"
    assert json.loads(stanza["action.correlationsearch.annotations"]) == {"mitre_attack": ["T1485", "T1485.001"]}
    assert stanza["action.notable"] == "1"
    assert stanza["action.notable.param.severity"] == "medium"
    assert stanza["action.notable.param.rule_title"] == rule.title
    assert stanza["action.notable.param.rule_description"] == rule.sigma.description.strip()
    next_steps = json.loads(stanza["action.notable.param.next_steps"])
    assert next_steps == {"version": 1, "data": rule.meta.note.strip()}
    assert stanza["action.risk"] == "1"
    assert json.loads(stanza["action.risk.param._risk"]) == [
        {"risk_object_field": "userIdentity.arn", "risk_object_type": "user", "risk_score": 47}
    ]
    assert files["splunk/aws_kms_imported_key_material_deleted.spl"] == (search + "\n").encode()


def test_committed_artifacts_are_what_the_emitter_writes():
    files = emitted(load_rules(ROOT / "sigma").rules)  # the Windows rules appear as "not carried" lines
    for path, data in files.items():
        assert (ROOT / "output" / path).read_bytes() == data, path


def test_multi_line_searches_continue_and_read_back(rule_from):
    rule = rule_from({"a": {"userAgent|re": "1"}, "b": {"eventName|re": "2"}, "condition": "a or b"})
    files = emitted([rule])
    text = files[CONF_PATH].decode()
    search = SPL.compile(rule, DEFAULT_PROFILE).query
    assert "\n" in search
    assert "search = " + search.replace("\n", "\\\n") in text
    assert read_conf(files[CONF_PATH])[rule.title]["search"] == search


def test_one_stanza_per_rule_in_path_order(rule_from):
    rules = [
        rule_from({"sel": {"eventName": "B"}, "condition": "sel"}, title="Second [beta]"),
        rule_from({"sel": {"eventName": "A"}, "condition": "sel"}, title="First"),
    ]
    conf = read_conf(emitted(rules)[CONF_PATH])
    assert list(conf) == ["Second (beta)", "First"]  # rule_0.yml, rule_1.yml; brackets cannot open a stanza


def test_unsupported_rules_are_listed_not_written(rule_from):
    good = rule_from({"sel": {"eventName": "A"}, "condition": "sel"}, title="Good")
    bad = rule_from({"sel": {"requestParameters": "x"}, "condition": "sel"}, title="Bad")
    files = emitted([good, bad])
    text = files[CONF_PATH].decode()
    assert list(read_conf(files[CONF_PATH])) == ["Good"]
    assert f"# not carried: {bad.path}: unsupported: requestParameters: a CloudTrail JSON object" in text
    assert not any(p.endswith("rule_1.spl") for p in files)


def test_no_supported_rule_writes_nothing(rule_from):
    bad = rule_from({"sel": {"requestParameters": "x"}, "condition": "sel"})
    assert emitted([bad]) == {}


def test_emit_is_deterministic(rule_from):
    rules = [load_rule(SEED_RULE), rule_from({"sel": {"eventName": "A"}, "condition": "sel"})]
    assert emitted(rules) == emitted(list(reversed(rules)))


def test_same_title_twice_is_an_error(rule_from):
    rules = [rule_from({"sel": {"eventName": x}, "condition": "sel"}, title="Twin") for x in "AB"]
    results, _ = compile_rules(rules, [SPL], DEFAULT_PROFILE)
    with pytest.raises(EmitError, match=r"same stanza \[Twin\]"):
        emit(EMITTER, results, DEFAULT_PROFILE)


@pytest.mark.parametrize(
    ("interval", "cron"),
    [("1m", "* * * * *"), ("5m", "*/5 * * * *"), ("15m", "*/15 * * * *"), ("60m", "0 * * * *"),
     ("120m", "0 */2 * * *"), ("1h", "0 * * * *"), ("6h", "0 */6 * * *"), ("24h", "0 0 * * *"), ("1d", "0 0 * * *")],
    ids=case_id,
)
def test_cron_schedules(interval: str, cron: str):
    assert cron_schedule(interval) == cron


@pytest.mark.parametrize("interval", ["7m", "90m", "30s", "5h", "2d", "soon"], ids=str)
def test_intervals_without_an_even_cron_are_refused(interval: str):
    with pytest.raises(EmitError, match="schedule interval"):
        cron_schedule(interval)


def test_uneven_interval_is_a_located_emit_error(rule_from):
    rule = rule_from({"sel": {"eventName": "A"}, "condition": "sel"}, detc={"schedule": {"interval": "7m"}})
    results, _ = compile_rules([rule], [SPL], DEFAULT_PROFILE)
    with pytest.raises(EmitError) as info:
        emit(EMITTER, results, DEFAULT_PROFILE)
    assert info.value.path == rule.path and info.value.target == "spl"


def test_lookback_becomes_a_relative_time():
    assert earliest_time("now-6m") == "-6m"
    assert earliest_time("now-2h") == "-2h"
    with pytest.raises(EmitError):
        earliest_time("6m")


def test_conf_values_with_blank_lines_and_comment_like_lines():
    value = "first\n\n  indented\n#not a comment\nlast"
    line = conf_value("description", value)
    assert line == "description = first\\\n\\\n  indented\\\n#not a comment\\\nlast"


def test_a_description_ending_in_a_backslash_is_written_without_it(rule_from):
    """SigmaHQ's colorcpl rule ends its description in a folder path; the .conf value leaves the
    final backslash out (it would continue the line), and the rule builds."""
    rule = rule_from(
        {"sel": {"eventName": "A"}, "condition": "sel"}, description="Copies to c:\\windows\\system32\\color\\"
    )
    stanza = read_conf(emitted([rule])[CONF_PATH])[rule.title]
    assert stanza["description"] == "Copies to c:\\windows\\system32\\color"
    assert stanza["action.notable.param.rule_description"] == "Copies to c:\\windows\\system32\\color"


def test_prose_lines_ending_in_a_backslash_lose_it_and_a_search_line_is_an_error():
    """Any line, not only the last: a backslash before a line break would join the next line."""
    assert prose("Copies from c:\\a\\\nto c:\\b\\") == "Copies from c:\\a\nto c:\\b"
    assert conf_value("description", prose("one\\\ntwo")) == "description = one\\\ntwo"
    with pytest.raises(EmitError, match="a line ending in a backslash"):
        conf_value("search", "index=x Image=\"c:\\\\\nOR y")


@pytest.mark.parametrize(
    "value", ["ends with a backslash\\", "a line ending in one\\\nnext", "carriage\rreturn"],
    ids=["trailing-backslash", "inner-line-backslash", "carriage-return"],
)
def test_conf_values_that_cannot_be_written_are_errors(value: str):
    with pytest.raises(EmitError):
        conf_value("search", value)


@pytest.mark.parametrize("name", ["a]b", "a[b", "two\nlines", " padded", ""], ids=case_id)
def test_bad_stanza_names_are_errors(name: str):
    with pytest.raises(EmitError):
        stanza_text(name, [("k", "v")])


def test_repeated_key_is_an_error():
    with pytest.raises(EmitError, match="written twice"):
        stanza_text("s", [("k", "1"), ("k", "2")])


def test_empty_results_write_nothing():
    assert emit(EMITTER, [], DEFAULT_PROFILE) == []
    assert isinstance(emit(EMITTER, [RuleResult(rule=load_rule(SEED_RULE), compiled={}, unsupported={})], DEFAULT_PROFILE), list)
