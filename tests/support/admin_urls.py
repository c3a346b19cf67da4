from django.urls import reverse


def admin_url(model, view="changelist", *args) -> str:
    """The Django admin's URL for ``model``'s ``view``: ``admin_url(Inbox, "change", pk)``."""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
