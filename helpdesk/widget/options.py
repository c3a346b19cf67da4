"""What a widget is told about its inbox with its token: each feature's settings, in one object
(``options`` in the answer of /widget/api/visitor, docs/widget.md)."""

from typing import Any

from helpdesk.core.filetypes import parse_types
from helpdesk.tenants.models import Inbox
from helpdesk.widget.availability import inbox_availability
from helpdesk.widget.prechat import prechat_options


def widget_options(inbox: Inbox, *, language: str) -> dict[str, Any]:
    return {
        "attachments": {
            "enabled": inbox.attachments_enabled,
            "types": parse_types(inbox.attachment_types),
            "max_bytes": inbox.attachment_max_mb * 1024 * 1024,
            "per_message": inbox.attachments_per_message,
        },
        "rating": inbox.rating_scale,
        "hours": inbox_availability(inbox),
        "sound": inbox.sound_enabled,
        "title_unread": inbox.title_unread_enabled,
        "launcher_label": inbox.launcher_label,
        "prechat": prechat_options(inbox),
        "proactive": {
            "message": inbox.proactive_message,
            "delay_seconds": inbox.proactive_delay_seconds,
        },
    }
