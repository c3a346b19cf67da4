from django.urls import reverse


def admin_url(model, view="changelist", *args) -> str:
    """The Django admin's URL for ``model``'s ``view``: ``admin_url(Inbox, "change", pk)``."""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def inbox_form_data(**values) -> dict:
    """What the inbox admin's form posts: the defaults of the fields every inbox has, no
    inline rows (pre-chat fields, opening hours, holidays), and ``values``."""
    from helpdesk.core.filetypes import DEFAULT_ALLOWED_TYPES
    from helpdesk.tenants.models import Inbox

    data = {
        "reopen_to": Inbox.ReopenTo.BOT,
        "is_active": "on",
        "attachments_enabled": "on",
        "attachment_types": DEFAULT_ALLOWED_TYPES,
        "attachment_max_mb": 10,
        "attachments_per_message": 5,
        "time_zone": "UTC",
        "rating_scale": Inbox.RatingScale.FIVE,
        "proactive_delay_seconds": 0,
    }
    for prefix in ("prechat_fields", "opening_hours", "holidays"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data.update(values)
    return data
