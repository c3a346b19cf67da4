import atexit

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PluginsConfig(AppConfig):
    name = "helpdesk.plugins"
    label = "plugins"
    verbose_name = _("Plugins")

    def ready(self):
        from celery.signals import worker_process_shutdown, worker_shutdown

        from helpdesk.conversations.attachments import check_attachments_with
        from helpdesk.conversations.followers import (
            Stage,
            filter_agent_text_with,
            follow_customer_messages,
        )
        from helpdesk.plugins.models import PluginConfig
        from helpdesk.plugins.runner import check_attachment, filter_agent_text
        from helpdesk.plugins.runtime import runtime

        # A tenant with an enabled plugin has its customer messages run through the plugins,
        # before the bot answers: the bot reads what they attached.
        follow_customer_messages(
            "plugins",
            condition=f"EXISTS (SELECT 1 FROM {PluginConfig._meta.db_table}"
            " WHERE tenant_id = %(tenant)s AND enabled)",
            handler=_enrich,
            stage=Stage.ENRICH,
        )
        filter_agent_text_with("plugins", filter_agent_text)
        # Uploads are shown to the plugins before they are stored; one may refuse a file.
        check_attachments_with("plugins", check_attachment)
        # Plugins release what they set up when the process stops. Celery's pool processes
        # may leave without running atexit handlers, so its shutdown signals do it too.
        atexit.register(runtime.teardown_all)
        worker_process_shutdown.connect(_teardown_all, weak=False)
        worker_shutdown.connect(_teardown_all, weak=False)


async def _enrich(message) -> None:
    from helpdesk.plugins.runner import run_customer_message_hooks

    await run_customer_message_hooks(tenant=message.tenant, message=message)


def _teardown_all(**kwargs):
    from helpdesk.plugins.runtime import runtime

    runtime.teardown_all()
