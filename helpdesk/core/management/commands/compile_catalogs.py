"""``manage.py compile_catalogs``: build the .mo files of the project's translations.

Django's own ``compilemessages`` needs GNU gettext's msgfmt; this needs only Python, so `make demo`
works on a machine with nothing but python3.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from helpdesk.core.catalogs import catalogs_compile


class Command(BaseCommand):
    help = "Compile the translation catalogs under LOCALE_PATHS (.po to .mo) that changed."

    def handle(self, *args, **options):
        written = catalogs_compile(locale_dirs=settings.LOCALE_PATHS)
        if options["verbosity"] >= 1:
            for path in written:
                self.stdout.write(f"compiled {path}")
