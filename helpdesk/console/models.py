from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenants.models import TenantOwned

SHORTCUT_PATTERN = r"^[a-z0-9][a-z0-9_-]*\Z"
SHORTCUT_MAX = 40
CANNED_TEXT_MAX = 4000  # the default MESSAGE_MAX_CHARS: a canned reply must fit in one message


class CannedResponse(TenantOwned):
    """A reply an agent inserts by typing ``/shortcut`` in the console's composer.

    ``{{name}}`` in the text stands for the customer's name and ``{{agent}}`` for the agent's;
    the console fills them in when it inserts the text.
    """

    shortcut = models.CharField(
        _("shortcut"),
        max_length=SHORTCUT_MAX,
        validators=[
            RegexValidator(
                SHORTCUT_PATTERN,
                _(
                    "Use lowercase letters, digits, hyphens and underscores, starting with a "
                    "letter or digit (e.g. refund-policy)."
                ),
                code="invalid_shortcut",
            )
        ],
        help_text=_("Agents type a slash and this word in the composer, e.g. /refund."),
    )
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(
        _("text"),
        max_length=CANNED_TEXT_MAX,
        help_text=_("What gets inserted. {{name}} becomes the customer's name, {{agent}} yours."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["shortcut"]
        constraints = [
            # Also the index behind the composer's prefix search.
            models.UniqueConstraint(
                fields=["tenant", "shortcut"], name="canned_response_shortcut_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} — {self.title}"
