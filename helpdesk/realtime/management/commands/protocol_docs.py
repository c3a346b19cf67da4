from django.core.management.base import BaseCommand, CommandError

from helpdesk.realtime import schema_docs


class Command(BaseCommand):
    help = "Write docs/protocol.md's frame-field tables from helpdesk/realtime/schemas.py."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="exit 1 if the tables are out of date"
        )

    def handle(self, *args, check: bool, **options):
        text = schema_docs.DOC.read_text()
        generated = schema_docs.current(text)
        if generated is None:
            raise CommandError(f"{schema_docs.DOC} has no generated section markers.")
        fresh = schema_docs.render()
        if generated == fresh:
            self.stdout.write("docs/protocol.md's frame tables are current.")
            return
        if check:
            raise CommandError(
                "docs/protocol.md's frame tables are out of date: run protocol_docs."
            )
        schema_docs.DOC.write_text(text.replace(generated, fresh))
        self.stdout.write("docs/protocol.md's frame tables rewritten.")
