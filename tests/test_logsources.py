"""The logsource axis: the platform-free layer, the cells each platform registers, the one reason for a missing cell."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

import backends
from compiler.build import compile_one
from compiler.errors import ShapeError, UnsupportedFeature
from compiler.fixtures import Case, FixtureFile
from compiler.logsources import FAMILIES, LOGSOURCES, cell_for, find, recognise, record_cell, require
from compiler.profile import DEFAULT_PROFILE, Exclusion, Profile
from compiler.target import load_registry
from compiler.testing import exclusion_cases

ROOT = Path(__file__).resolve().parents[1]
CELL_PLATFORMS = [p for p in backends.PLATFORMS if hasattr(importlib.import_module(f"backends.{p}"), "CELLS")]
CELL_PARTS = {"pipeline": "processing_pipeline", "shaper": "shape", "storage": "storage"}
"""What every cell defines: part module → the function every platform names the same."""


def _cells() -> list[tuple[str, str, Any]]:
    return [
        (platform, family, cell)
        for platform in CELL_PLATFORMS
        for family, cell in importlib.import_module(f"backends.{platform}").CELLS.items()
    ]


@pytest.mark.parametrize(("platform", "family", "cell"), _cells(), ids=[f"{p}-{f}" for p, f, _ in _cells()])
def test_every_cell_has_the_same_parts(platform: str, family: str, cell: Any) -> None:
    assert family in FAMILIES
    assert cell.__name__ == f"backends.{platform}.{family}"
    for part, function in CELL_PARTS.items():
        assert callable(getattr(getattr(cell, part), function)), f"{cell.__name__}.{part}.{function}"


def test_the_matrix_in_the_tree_is_the_registered_one() -> None:
    """A folder named after a family inside a platform is a cell, and every cell is registered."""
    on_disk = {
        (platform, path.name)
        for platform in CELL_PLATFORMS
        for path in (ROOT / "backends" / platform).iterdir()
        if path.is_dir() and path.name in FAMILIES
    }
    assert on_disk == {(p, f) for p, f, _ in _cells()}
    assert {"cloudtrail"} <= {f for _, f, _ in _cells()} and {"elastic", "aws", "splunk"} <= set(CELL_PLATFORMS)


def test_find_by_product_and_service_whatever_the_category() -> None:
    assert find({"product": "aws", "service": "cloudtrail"}).name == "aws/cloudtrail"
    assert find({"product": "aws", "service": "cloudtrail", "category": "x"}).name == "aws/cloudtrail"
    assert find({"product": "aws"}) is None
    assert find({"service": "cloudtrail"}) is None
    assert find({"product": "gcp", "service": "gcp.audit"}) is None


def test_no_definition_and_no_cell_are_one_reason_each() -> None:
    with pytest.raises(UnsupportedFeature) as err:
        require({"product": "gcp", "service": "gcp.audit"}, target="x")
    assert err.value.message.startswith("logsource gcp/gcp.audit: detc has no definition of it (families: cloudtrail, windows")
    with pytest.raises(UnsupportedFeature) as err:
        cell_for({}, {"product": "aws", "service": "cloudtrail"}, target="kql")
    assert err.value.message == "logsource aws/cloudtrail: kql has no cell for cloudtrail logsources (its cells: none)"
    assert err.value.target == "kql"


@pytest.mark.parametrize("target", ["sigma", "kql", "lucene", "spl", "eventbridge"], ids=str)
def test_every_target_refuses_an_unknown_logsource_with_the_same_reason(rule_from, target: str) -> None:
    rule = rule_from({"sel": {"protoPayload.methodName": "x"}, "condition": "sel"},
                     logsource={"product": "gcp", "service": "gcp.audit"})
    with pytest.raises(UnsupportedFeature) as err:
        compile_one(load_registry().get(target), rule, DEFAULT_PROFILE)
    assert err.value.message.startswith("logsource gcp/gcp.audit: detc has no definition of it")


def test_cloudtrail_set_field_creates_objects_and_leaves_the_record_alone() -> None:
    source = find({"product": "aws", "service": "cloudtrail"})
    record = {"userIdentity": {"type": "IAMUser"}, "eventName": "X"}
    changed = source.set_field(record, "userIdentity.sessionContext.sessionIssuer.arn", "arn:x")
    assert changed == {
        "userIdentity": {"type": "IAMUser", "sessionContext": {"sessionIssuer": {"arn": "arn:x"}}}, "eventName": "X"
    }
    assert record == {"userIdentity": {"type": "IAMUser"}, "eventName": "X"}
    assert source.set_field({"userIdentity": "text"}, "userIdentity.arn", "a") == {"userIdentity": {"arn": "a"}}


def test_cloudtrail_set_field_puts_array_paths_in_arrays() -> None:
    """CloudTrail holds ``resources`` as an array of objects: a client exclusion case (or a generated
    event) on ``resources.ARN`` must be a record CloudTrail could write, not an object in its place."""
    source = find({"product": "aws", "service": "cloudtrail"})
    assert source.set_field({"eventName": "X"}, "resources.ARN", "arn:k") == {"eventName": "X", "resources": [{"ARN": "arn:k"}]}
    existing = {"resources": [{"ARN": "arn:a", "type": "AWS::KMS::Key"}]}
    assert source.set_field(existing, "resources.ARN", "arn:b") == {"resources": [{"ARN": "arn:b", "type": "AWS::KMS::Key"}]}


def test_cloudtrail_fields_are_json_paths() -> None:
    source = find({"product": "aws", "service": "cloudtrail"})
    record = {"resources": [{"ARN": "a"}, {"ARN": "b"}], "requestParameters": {"key.with.dots": 1}}
    assert source.field_values(record, "resources.ARN") == ["a", "b"]
    assert source.field_values(record, "requestParameters.key.with.dots") == [1]
    assert source.field_values(record, "eventName") == []
    assert source.admits({}) and source.view(record) is record


def test_recognise_a_cloudtrail_record_and_nothing_else() -> None:
    assert recognise({"eventName": "X"}) is FAMILIES["cloudtrail"]
    assert recognise({"Records": []}) is None
    assert recognise(["eventName"]) is None
    with pytest.raises(ShapeError, match="not a raw record of any logsource"):
        record_cell({"cloudtrail": object()}, {"Records": []}, target="spl")


def test_exclusion_cases_set_the_field_through_the_logsource(rule_from) -> None:
    rule = rule_from({"sel": {"eventName": "X"}, "condition": "sel"})
    fixtures = FixtureFile(path="t", rule_id=rule.id, cases=(
        Case(name="m", expect="match", event={"eventName": "X"}),
        Case(name="n", expect="no_match", event={"eventName": "Y"}),
    ))
    profile = Profile(name="c", exclusions=(Exclusion(field="userIdentity.arn", values=("arn:a",)),))
    (case,) = exclusion_cases(rule, fixtures, profile)
    assert case.event == {"eventName": "X", "userIdentity": {"arn": "arn:a"}}
    assert case.expect == "no_match"


def test_every_logsource_belongs_to_a_registered_family() -> None:
    assert all(s.family is FAMILIES[s.family.name] for s in LOGSOURCES)
    assert len({(s.product, s.category, s.service) for s in LOGSOURCES}) == len(LOGSOURCES)
