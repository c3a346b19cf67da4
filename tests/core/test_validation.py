"""What PostgreSQL can store: ``storable_text`` and ``check_storable``."""

import pytest
from django.core.exceptions import ValidationError

from helpdesk.core.errors import InvalidCharacters, InvalidInput
from helpdesk.core.validation import check_storable, storable_text, validate_storable

UNSTORABLE = [
    "\x00",
    "before\x00after",
    "\ud800",  # a lone high surrogate: no UTF-8 encoding exists for it
    "x\udfffy",  # a lone low surrogate
    "emoji cut in half \ud83d",
]
STORABLE = ["", "plain", "ünïcödé 中文", "\U0001f600 astral", "\\u0000 is only text", "\x01\x7f"]


@pytest.mark.parametrize("value", UNSTORABLE)
def test_storable_text_refuses_what_postgresql_cannot_store(value):
    with pytest.raises(InvalidCharacters) as raised:
        storable_text(value, field="text")

    assert raised.value.code == "invalid_characters"
    assert raised.value.http_status == 400
    assert raised.value.details == {"field": "text"}


@pytest.mark.parametrize("value", STORABLE)
def test_storable_text_returns_what_it_accepts(value):
    assert storable_text(value) == value


def test_the_error_is_an_input_error():
    assert issubclass(InvalidCharacters, InvalidInput)


@pytest.mark.parametrize(
    "value",
    [
        {"key": "\x00"},
        {"\x00key": "value"},
        {"outer": {"inner": ["fine", "\ud800"]}},
        ["a", ("b", "\x00")],
        "\x00",
        {"\udc00": 1},
    ],
)
def test_check_storable_walks_keys_and_values_at_any_depth(value):
    with pytest.raises(InvalidCharacters):
        check_storable(value)


def test_check_storable_accepts_json_like_values():
    check_storable(
        {"name": "Anna", "tags": ["vip", "\U0001f600"], "n": 3, "x": 1.5, "ok": True, "no": None}
    )


def test_check_storable_names_the_field_it_was_given():
    with pytest.raises(InvalidCharacters) as raised:
        check_storable({"a": "\x00"}, field="metadata")

    assert raised.value.details == {"field": "metadata"}


def test_a_nul_nested_deeper_than_the_recursion_limit_is_found():
    value: list = ["\x00"]
    for _ in range(5000):
        value = [value]

    with pytest.raises(InvalidCharacters):
        check_storable(value)


def test_the_form_validator_raises_a_validation_error_with_the_code():
    with pytest.raises(ValidationError) as raised:
        validate_storable({"a": "\x00"})

    assert raised.value.code == "invalid_characters"
    validate_storable({"a": "fine"})
