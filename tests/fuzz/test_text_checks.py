"""The checks at the door, on their own: JSON texts (lone surrogates, depth) and Query parameters (XML)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinflow import errors, jsontext
from pinflow.api import querytext


@pytest.mark.parametrize(("raw", "member"), [
    (b'{"name": "\\ud800"}', "name"),
    (b'{"tags": [{"key": "k", "value": "a\\udfffb"}]}', "tags"),
    (b'{"ok": "\\ud83d\\ude00", "bad": {"deep": ["\\udc00"]}}', "bad"),  # a valid pair is one character
    (b'"\\ud800"', ""),
    (b'{"\\ud800": 1}', ""),
])
def test_a_lone_surrogate_is_refused_and_its_member_named(raw: bytes, member: str) -> None:
    with pytest.raises(jsontext.UnpairedSurrogate) as refused:
        jsontext.parse(raw)
    assert refused.value.member == member
    assert jsontext.parse(b'{"ok": "\\ud83d\\ude00", "text": "\\\\ud800"}') == {"ok": "\U0001f600",
                                                                                 "text": "\\ud800"}


def test_json_nested_too_deeply_is_not_json() -> None:
    with pytest.raises(jsontext.NotJson, match="nested too deeply"):
        jsontext.parse(b"[" * 10_000 + b"]" * 10_000)
    with pytest.raises(jsontext.NotJson):
        jsontext.parse(b"\xff")


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(st.characters(exclude_categories=())),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                max_size=3)))
def test_anything_parsed_is_stored_and_answered_back(value: object) -> None:
    text = json.dumps(value)  # escapes: what a client sends for whatever it holds
    try:
        parsed = jsontext.parse(text.encode("ascii"))
    except jsontext.UnpairedSurrogate:
        assert jsontext.unpaired_member(value) is not None
        return
    # What passes encodes as UTF-8 (as the store and the answers need), and reads back the same.
    assert json.loads(jsontext.encode(parsed).decode("utf-8")) == value


def test_answers_encode_whatever_is_stored() -> None:
    assert jsontext.encode({"a": "é"}) == '{"a":"é"}'.encode()
    assert json.loads(jsontext.encode({"a": "\ud800"})) == {"a": "\ud800"}


def test_query_parameters_must_be_utf8() -> None:
    assert querytext.parameters(b"A=%C3%A9&B=", "C=1") == {"A": "é", "B": "", "C": "1"}
    with pytest.raises(querytext.InvalidQueryParameter):
        querytext.parameters(b"A=%ED%A0%80", "")


@pytest.mark.parametrize(("params", "message"), [
    ({"Description": "a\x00"}, "Value at 'description' failed to satisfy constraint: Member must satisfy "
                               "regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*"),
    ({"Tags.member.2.Value": "\x01"}, "Value at 'tags.2.member.value' failed to satisfy constraint"),
    ({"NotAMember": "\x0b"}, "Value at 'notAMember' failed to satisfy constraint: Member must not contain "
                             "control characters"),
])
def test_characters_xml_cannot_carry_are_refused_with_iams_validation_error(params: dict[str, str],
                                                                             message: str) -> None:
    with pytest.raises(errors.ValidationException) as refused:
        querytext.check_text({"RoleName": "r", **params}, "iam", "CreateRole")
    assert refused.value.message.startswith("1 validation error detected: ")
    assert message in refused.value.message
    querytext.check_text({"Description": "tab\tnew\nline\r é"}, "iam", "CreateRole")


def test_stored_text_is_made_writable_as_xml() -> None:
    assert querytext.xml_text("a\x00b\x1f\ufffec\td") == "a\ufffdb\ufffd\ufffdc\td"
