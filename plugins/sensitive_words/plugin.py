from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from helpdesk.plugins.base import BasePlugin
from helpdesk.plugins.config import ConfigField, FieldType
from helpdesk.plugins.registry import register
from plugins.sensitive_words.matcher import MaskingFilter, WordMatcher

MAX_WORDS = 50_000
MAX_WORD_LENGTH = 100


@register
class SensitiveWordsPlugin(BasePlugin):
    id = "sensitive_words"
    name = _("Sensitive words")
    description = _(
        "Masks banned words with * in the bot's replies as they stream, before any of a word "
        "reaches a screen, and in the stored reply; optionally in agents' messages too."
    )
    version = "1.0"
    config_fields = (
        ConfigField(
            "words",
            FieldType.LIST,
            default=[],
            label=_("Banned words"),
            help=format_lazy(
                _(
                    "One word or phrase per line. English matches in any case; Chinese exactly. "
                    "Up to {max_words} entries."
                ),
                max_words=f"{MAX_WORDS:,}",
            ),
            max_items=MAX_WORDS,
            max_length=MAX_WORD_LENGTH,
        ),
        ConfigField(
            "mask_agent_messages",
            FieldType.BOOL,
            default=False,
            label=_("Mask agents' messages"),
            help=_("Also mask these words in agents' messages before they are stored and sent."),
        ),
    )

    def setup(self) -> None:
        # Built once per configuration version; every reply's filter shares it (read-only).
        self.matcher = WordMatcher(self.config["words"])
        self.logger.info("Sensitive-word automaton built with %d words.", len(self.matcher))

    def on_bot_stream(self) -> MaskingFilter | None:
        return MaskingFilter(self.matcher) if self.matcher else None

    def on_agent_message(self, text: str) -> str:
        if not (self.config["mask_agent_messages"] and self.matcher):
            return text
        return self.matcher.mask(text)
