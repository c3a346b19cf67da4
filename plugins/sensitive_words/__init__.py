"""Masks a tenant's banned words in the bot's replies while they stream (and optionally in
agents' messages)."""

from plugins.sensitive_words.plugin import SensitiveWordsPlugin

__all__ = ["SensitiveWordsPlugin"]
