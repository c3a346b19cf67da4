from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "helpdesk.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from helpdesk.conversations.announcements import listen_to_changes
        from helpdesk.webhooks import tasks  # noqa: F401  (workers learn the job names)
        from helpdesk.webhooks.events import EVENT_FOR_CHANGE
        from helpdesk.webhooks.models import Webhook
        from helpdesk.webhooks.registry import wants

        # The domain announces its changes; a tenant's webhooks hear those they listen to. The
        # check is in memory, so a change no webhook wants costs nothing more.
        listen_to_changes("webhooks", _record, changes=EVENT_FOR_CHANGE, wants=wants)
        post_save.connect(_changed, sender=Webhook, dispatch_uid="webhooks-active-save")
        post_delete.connect(_changed, sender=Webhook, dispatch_uid="webhooks-active-delete")


def _record(change) -> None:
    # Recorded here, right after the commit and in the committing thread, rather than in a job:
    # a conversation's changes are then recorded in the order they were made, which is the
    # order they are delivered in. It costs queries only when a webhook listens.
    from helpdesk.webhooks.delivery import event_record

    event_record(change)


def _changed(sender, **kwargs) -> None:
    from helpdesk.webhooks.registry import webhooks_changed

    webhooks_changed()
