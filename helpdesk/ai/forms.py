"""The bot's admin form: a write-only API key and checks the model alone cannot make. The
write-only key is a base form of its own, which the knowledge settings' form shares."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from helpdesk.ai.models import BotConfig
from helpdesk.ai.validators import (
    normalise_endpoint,
    validate_endpoint,
    validate_endpoint_address,
)
from helpdesk.tenants.admin_base import TenantConsistentForm

MAX_HANDOFF_KEYWORDS = 50
MAX_HANDOFF_KEYWORD_CHARS = 50


def parse_handoff_keywords(text: str) -> list[str]:
    """One keyword per line, stripped, without blanks or repeats (ignoring case)."""
    keywords: dict[str, str] = {}
    for line in text.splitlines():
        keyword = line.strip()
        if keyword:
            keywords.setdefault(keyword.casefold(), keyword)
    return list(keywords.values())


class WriteOnlyKeyForm(TenantConsistentForm):
    """A model form with an API key that is typed but never shown: the model's
    ``key_attribute`` property stores it encrypted, a blank field keeps the stored key, and
    "Clear the stored key" removes it (the server's OPENAI_API_KEY then applies)."""

    # The model's property that encrypts the key; the column is this name + "_encrypted".
    key_attribute = "api_key"

    # Write-only: the widget never renders the stored value back into the page.
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_api_key = forms.BooleanField(label=_("Clear the stored key"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        has_key = bool(self.instance.pk and self.stored_key_encrypted)
        if "api_key" in self.fields:
            self.fields["api_key"].help_text = (
                _(
                    "A key is set. It is stored encrypted and never shown: leave this blank to "
                    "keep it, or type a new key to replace it."
                )
                if has_key
                else _(
                    "No key is set: the server's OPENAI_API_KEY is used, if there is one. "
                    "Self-hosted servers often need no key."
                )
            )
        if "clear_api_key" in self.fields and not has_key:
            self.fields["clear_api_key"].disabled = True
            self.fields["clear_api_key"].help_text = _("There is no stored key to clear.")

    @property
    def stored_key_encrypted(self) -> str:
        return getattr(self.instance, f"{self.key_attribute}_encrypted")

    def effective_key(self) -> str:
        """The key the saved row will hold: typed, cleared, or the stored one kept."""
        if self.cleaned_data.get("api_key"):
            return self.cleaned_data["api_key"]
        if self.cleaned_data.get("clear_api_key"):
            return ""
        return getattr(self.instance, self.key_attribute)

    def clean_api_key(self) -> str:
        key = self.cleaned_data.get("api_key") or ""
        if any(ch.isspace() for ch in key):
            raise ValidationError(_("An API key has no spaces or line breaks."), code="invalid")
        return key

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("api_key") and cleaned.get("clear_api_key"):
            self.add_error("clear_api_key", _("Type a new key or clear the stored one, not both."))
        return cleaned

    def save(self, commit=True):
        key = self.cleaned_data.get("api_key")
        if key:
            setattr(self.instance, self.key_attribute, key)
        elif self.cleaned_data.get("clear_api_key"):
            setattr(self.instance, f"{self.key_attribute}_encrypted", "")
        return super().save(commit)


class BotConfigForm(WriteOnlyKeyForm):
    base_url = forms.CharField(
        label=_("Base URL"),
        required=False,
        max_length=200,
        help_text=_(
            "The API's base URL, ending in /v1: https://api.openai.com/v1, or a vLLM, "
            "llama.cpp or Ollama server's, e.g. https://llm.example.com/v1. A pasted "
            "…/chat/completions is trimmed. Internal addresses (such as localhost or 10.x) work "
            "only where the server's operator allows them. Empty: the server's OPENAI_BASE_URL, "
            "else OpenAI."
        ),
    )

    class Meta:
        model = BotConfig
        fields = "__all__"

    def clean_base_url(self) -> str:
        url = normalise_endpoint(self.cleaned_data.get("base_url") or "")
        if url:
            validate_endpoint(url)
            validate_endpoint_address(url)
        return url

    def clean_handoff_keywords(self) -> str:
        keywords = parse_handoff_keywords(self.cleaned_data.get("handoff_keywords") or "")
        if len(keywords) > MAX_HANDOFF_KEYWORDS:
            raise ValidationError(
                _("At most %(limit)d keywords, one per line (%(count)d given)."),
                code="too_many",
                params={"limit": MAX_HANDOFF_KEYWORDS, "count": len(keywords)},
            )
        long = [k for k in keywords if len(k) > MAX_HANDOFF_KEYWORD_CHARS]
        if long:
            raise ValidationError(
                _("Each keyword is at most %(limit)d characters: %(keyword)s…"),
                code="too_long",
                params={
                    "limit": MAX_HANDOFF_KEYWORD_CHARS,
                    "keyword": long[0][:MAX_HANDOFF_KEYWORD_CHARS],
                },
            )
        return "\n".join(keywords)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("provider") == BotConfig.Provider.OPENAI and not cleaned.get("model"):
            self.add_error(
                "model",
                _(
                    "An OpenAI-compatible bot needs a model, e.g. gpt-4o-mini, or the name your "
                    "server serves (llama3.1, Qwen/Qwen2.5-7B-Instruct, …)."
                ),
            )
        return cleaned
