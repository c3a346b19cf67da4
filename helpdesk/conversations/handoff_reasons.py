"""Why a conversation waits for a human, stored as ``code`` or ``code:detail`` (the keyword, the
error) and put into words only where someone reads it, in their language: the console gets the
wordings with its page (``reason_wordings``), the admin, transcripts, reports and notifications
call ``reason_text``. Reasons stored before codes existed are shown as they were written."""

from django.utils.translation import gettext_lazy as _

KEYWORD = "keyword"  # detail: the keyword
NO_KNOWLEDGE = "no_knowledge"
NO_BOT = "no_bot"
WROTE_AGAIN = "wrote_again"
BOT_UNAVAILABLE = "bot_unavailable"  # detail: what failed, for the operator
BOT_ASKED = "bot_asked"  # detail: the model's own words
OFFLINE = "offline"  # the offline form: nobody could answer, the customer left an e-mail

WORDINGS = {
    KEYWORD: _('The customer asked for a human ("%(detail)s").'),
    NO_KNOWLEDGE: _("The bot found no answer in the knowledge."),
    NO_BOT: _("This inbox has no bot."),
    WROTE_AGAIN: _("The customer wrote again in a resolved conversation."),
    BOT_UNAVAILABLE: _("The bot could not answer (%(detail)s)."),
    BOT_ASKED: _("The bot asked for a human: %(detail)s"),
    OFFLINE: _("Left with the offline form: answer by e-mail."),
}
MAX_LENGTH = 200  # Conversation.handoff_reason


def handoff_reason(code: str, detail: object = "") -> str:
    detail = " ".join(str(detail).split())
    return (f"{code}:{detail}" if detail else code)[:MAX_LENGTH]


def reason_text(reason: str) -> str:
    """``reason`` in words, in the active language."""
    code, _sep, detail = reason.partition(":")
    wording = WORDINGS.get(code)
    if wording is None:
        return reason
    return str(wording) % {"detail": detail}


def reason_wordings() -> dict[str, str]:
    """Every code's wording in the active language, ``%(detail)s`` left for the detail."""
    return {code: str(wording) for code, wording in WORDINGS.items()}
