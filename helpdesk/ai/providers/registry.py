"""The provider a bot uses, built from its configuration (and the environment's defaults)."""

from django.conf import settings

from helpdesk.ai.models import BotConfig
from helpdesk.ai.providers.base import Provider
from helpdesk.ai.providers.faq import FAQProvider
from helpdesk.ai.providers.openai_compat import OpenAICompatibleProvider
from helpdesk.ai.validators import endpoint_policy


def provider_for(bot: BotConfig) -> Provider:
    if bot.provider == BotConfig.Provider.FAQ:
        return FAQProvider(tenant_id=bot.tenant_id)
    return OpenAICompatibleProvider(
        base_url=bot.base_url or settings.OPENAI_BASE_URL,
        api_key=bot.api_key or settings.OPENAI_API_KEY,
        model=bot.model,
        timeout=bot.request_timeout_seconds,
        max_retries=bot.max_retries,
        policy=endpoint_policy(bot.base_url),
    )
