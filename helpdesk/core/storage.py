"""Where attachments are kept: settings.STORAGES["attachments"], the local filesystem in the
embedded mode and any S3-compatible store in production (docs/operations.md)."""

from django.core.files.storage import storages


def attachment_storage():
    # A callable, so the field (and its migration) names no backend and a deployment chooses.
    return storages["attachments"]
