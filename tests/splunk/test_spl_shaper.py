"""The shaper: a raw CloudTrail record as the Splunk Add-on for AWS presents it to a search."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.splunk.cloudtrail.shaper import shape
from compiler.errors import ShapeError
from tests.support import SEED_TESTS

SEED_EVENT = yaml.safe_load(SEED_TESTS.read_text())["cases"][0]["event"]


def test_nested_objects_become_dotted_names():
    shaped = shape(SEED_EVENT, {"index": "aws"})
    assert shaped["userIdentity.type"] == ("IAMUser",)
    assert shaped["requestParameters.keyId"] == ("1234abcd-12ab-34cd-56ef-1234567890ab",)
    assert shaped["tlsDetails.tlsVersion"] == ("TLSv1.2",)
    assert "userIdentity" not in shaped and "requestParameters" not in shaped  # objects are no fields


def test_arrays_get_braces_and_collect_values():
    record = {
        "eventName": "RunInstances",
        "resources": [
            {"ARN": "arn:a", "type": "AWS::EC2::Instance"},
            {"ARN": "arn:b", "type": "AWS::EC2::Instance"},
        ],
        "requestParameters": {
            "layers": ["l1", "l2"],
            "containerDefinitions": [{"command": ["sh", "-c"]}, {"command": ["id"]}],
            "empty": [],
            "nothing": {},
        },
    }
    shaped = shape(record, {"index": "aws"})
    assert shaped["resources{}.ARN"] == ("arn:a", "arn:b")
    assert shaped["resources{}.type"] == ("AWS::EC2::Instance", "AWS::EC2::Instance")
    assert shaped["requestParameters.layers{}"] == ("l1", "l2")
    assert shaped["requestParameters.containerDefinitions{}.command{}"] == ("sh", "-c", "id")
    assert not any(name.startswith("requestParameters.empty") for name in shaped)
    assert not any(name.startswith("requestParameters.nothing") for name in shaped)


def test_every_value_is_a_string():
    record = {"readOnly": False, "managementEvent": True, "n": 7, "f": 0.5, "gone": None, "eventName": "X"}
    shaped = shape(record, {"index": "aws"})
    assert shaped["readOnly"] == ("false",)
    assert shaped["managementEvent"] == ("true",)
    assert shaped["n"] == ("7",)
    assert shaped["f"] == ("0.5",)
    assert shaped["gone"] == ("null",)


def test_default_fields_and_raw():
    shaped = shape(SEED_EVENT, {"index": "client_aws"})
    assert shaped["index"] == ("client_aws",)
    assert shaped["sourcetype"] == ("aws:cloudtrail",)
    assert json.loads(shaped["_raw"][0]) == SEED_EVENT


@pytest.mark.parametrize(
    ("extra", "error_code", "msg"),
    [
        ({}, "success", "success"),  # a call without errorCode: the add-on fills in success
        ({"errorCode": "AccessDenied"}, "AccessDenied", "AccessDenied"),
        ({"responseElements": {"ConsoleLogin": "Failure"}}, "failure", "success"),
        ({"responseElements": {"ConsoleLogin": "Success"}}, "success", "success"),
        ({"responseElements": {"ConsoleLogin": "failure"}}, "success", "success"),  # like() is case-sensitive
        ({"errorCode": "Throttling", "responseElements": {"ConsoleLogin": "Failure"}}, "Throttling", "Throttling"),
    ],
    ids=["absent", "present", "console-failure", "console-success", "console-lowercase", "present-wins"],
)
def test_add_on_error_code(extra: dict[str, Any], error_code: str, msg: str):
    record = {"eventName": "ConsoleLogin", **extra}
    shaped = shape(record, {"index": "aws"})
    assert shaped["errorCode"] == (error_code,)
    assert shaped["msg"] == (msg,)


@pytest.mark.parametrize(
    "record",
    [["not", "an", "object"], {"eventName": float("nan")}, {"eventName": object()}, {1: "x"}],
    ids=["list", "nan", "object", "non-string-key"],
)
def test_bad_records_are_shape_errors(record: Any):
    with pytest.raises(ShapeError):
        shape(record, {"index": "aws"})


JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=10), JSON_VALUE, max_size=5))
def test_any_json_record_shapes_to_string_values(record: dict[str, Any]):
    shaped = shape(record, {"index": "aws"})
    for name, values in shaped.items():
        assert isinstance(name, str) and name
        assert isinstance(values, tuple) and values
        assert all(isinstance(v, str) for v in values)
    assert shaped["errorCode"]  # the add-on always fills errorCode
