"""``manage.py build_widget``: bundle static/helpdesk/widget/ into static/helpdesk/widget.js."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from helpdesk.widget.bundle import WIDGET_OUTPUT, BundleError, build_widget


class Command(BaseCommand):
    help = (
        "Bundle the widget's ES modules (static/helpdesk/widget/main.js and what it imports) "
        "into static/helpdesk/widget.js, the one script tenants embed."
    )

    def handle(self, *args, **options):
        static_dir = settings.BASE_DIR / "static"
        try:
            written = build_widget(static_dir)
        except BundleError as error:
            raise CommandError(str(error)) from None
        if options["verbosity"] >= 1:
            state = "built" if written else "up to date"
            self.stdout.write(f"{static_dir / WIDGET_OUTPUT}: {state}")
