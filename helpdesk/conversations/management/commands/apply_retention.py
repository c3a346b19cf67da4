"""Apply every tenant's retention policy now (the web processes also do it periodically:
RETENTION_SWEEP_SECONDS); for cron, or to see what it does."""

from django.core.management.base import BaseCommand

from helpdesk.conversations.attachments import attachments_orphans_delete
from helpdesk.conversations.retention import retention_sweep


class Command(BaseCommand):
    help = (
        "Delete or anonymise resolved conversations past their tenant's retention, and "
        "uploads never sent (ATTACHMENT_ORPHAN_HOURS)."
    )

    def handle(self, *args, **options):
        touched = retention_sweep()
        self.stdout.write(f"{touched} conversations deleted or anonymised")
        orphans = attachments_orphans_delete()
        self.stdout.write(f"{orphans} unsent uploads deleted")
