from urllib.parse import urlsplit

from django.core.exceptions import ValidationError


def validate_endpoint(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValidationError(f"Not a valid URL ({exc}).", code="invalid") from None
    if parts.scheme not in {"http", "https"}:
        raise ValidationError(
            "The endpoint must start with http:// or https://, e.g. https://api.openai.com/v1.",
            code="scheme",
        )
    if not parts.hostname:
        raise ValidationError("The endpoint has no host name.", code="invalid")
    if parts.username or parts.password:
        # A secret in the URL would be shown on the page and in logs; the key field is not.
        raise ValidationError(
            "Put credentials in the API key field, not in the URL.", code="credentials"
        )
    if parts.query or parts.fragment:
        raise ValidationError("The endpoint takes no ?query or #fragment.", code="invalid")
