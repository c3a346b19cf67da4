"""The translations the widget's and the console's JavaScript use, in Django's JSON catalog
format (``{"catalog", "plural", "formats"}``, what django.views.i18n.JSONCatalog answers), read
from the project's own ``djangojs`` catalogs.

static/helpdesk/shared/i18n.js reads it: the console gets it in its page's bootstrap, the widget
from ``GET /widget/api/i18n``.
"""

from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import DjangoTranslation
from django.views.i18n import JSONCatalog

from helpdesk.core.languages import supported_language


def javascript_catalog(*, language: str) -> dict:
    """The JSON catalog of ``language``, one of LANGUAGES (see ``supported_language``)."""
    return _catalog(supported_language(language))


@cache  # one entry per language of LANGUAGES; catalogs change with a deploy
def _catalog(language: str) -> dict:
    catalog_view = JSONCatalog()
    # Only the project's catalogs: Django's own djangojs strings are the admin's, not ours.
    catalog_view.translation = DjangoTranslation(
        language, domain="djangojs", localedirs=[str(path) for path in settings.LOCALE_PATHS]
    )
    with translation.override(language):  # the date and number formats of that language
        return catalog_view.get_context_data()
