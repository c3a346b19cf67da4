"""Service errors carry their message in the language active when they are raised."""

import json

import pytest
from django.utils import translation

from helpdesk.core.errors import NotFound, RateLimited, ServiceError, TextTooLong, _subclasses


def test_a_default_message_is_chinese_when_chinese_is_active():
    with translation.override("zh-hans"):
        error = RateLimited(retry_after=3)

    assert error.message == "请求过于频繁，请稍后再试。"
    assert str(error) == error.message


def test_a_default_message_is_english_when_english_is_active():
    with translation.override("en"):
        error = TextTooLong()

    assert error.message == "The message text is too long."


def test_a_message_stays_in_the_language_it_was_raised_in():
    with translation.override("zh-hans"):
        error = NotFound()
    with translation.override("en"):
        assert error.message == "未找到。"


def test_a_message_is_plain_text_ready_for_a_frame():
    with translation.override("zh-hans"):
        error = NotFound()

    assert type(error.message) is str
    assert json.loads(json.dumps({"message": error.message})) == {"message": "未找到。"}


@pytest.mark.parametrize("error_class", _subclasses(ServiceError), ids=lambda cls: cls.__name__)
def test_every_service_error_has_a_chinese_default_message(error_class):
    with translation.override("zh-hans"):
        chinese = str(error_class.default_message)
    with translation.override("en"):
        english = str(error_class.default_message)

    assert chinese != english, "shown untranslated"
    assert not chinese.isascii()
