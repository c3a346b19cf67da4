import pytest

from helpdesk.conversations.lifecycle import InvalidTransition
from helpdesk.core.errors import TokenExpired, http_status_for_code


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("token_expired", 401),  # a subclass answers as its family does
        ("text_too_long", 400),
        ("not_found", 404),
        ("conversation_closed", 409),
        ("frame_too_large", 413),
        ("rate_limited", 429),
        (InvalidTransition.code, 400),  # defined outside core.errors, found all the same
        ("no_such_code", 400),
    ],
)
def test_an_error_frames_code_gives_the_status_of_its_error(code, status):
    assert http_status_for_code(code) == status


def test_the_status_is_the_errors_own():
    assert TokenExpired().http_status == http_status_for_code(TokenExpired.code) == 401
