"""Form fields shared by the admin's forms."""

from django import forms
from django.forms.fields import InvalidJSONInput

from helpdesk.core.errors import InvalidCharacters
from helpdesk.core.validation import check_storable, validate_storable


class StorableJSONField(forms.JSONField):
    """A JSON field that refuses values PostgreSQL cannot store, as a field error.

    The submitted text holds no NUL, so the request passes the middleware; an escaped
    ``\\u0000`` in it decodes to one, which jsonb refuses. A refused value is shown again as it
    was typed: decoded and encoded again, a lone surrogate could not even be sent back as UTF-8.
    """

    default_validators = [validate_storable]

    def bound_data(self, data, initial):
        value = super().bound_data(data, initial)
        try:
            check_storable(value)
        except InvalidCharacters:
            return InvalidJSONInput(data)
        return value
