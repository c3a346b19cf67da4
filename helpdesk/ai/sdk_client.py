"""An ``AsyncOpenAI`` client for an OpenAI-compatible endpoint: the bot's chat endpoint
(providers/openai_compat.py) and a tenant's embeddings endpoint (knowledge/embeddings.py).

A tenant's endpoint is a URL a tenant typed: its client connects only where the server's address
policy allows, checked as each connection opens (helpdesk/core/netguard.py), so neither a private
address nor a name that later resolves to one is reached. The operator's own endpoint
(OPENAI_BASE_URL) gets the SDK's plain client.

A client belongs to the event loop it first ran on (its httpx pool does): a caller keeps one
per loop, or uses it from one long-lived loop only.
"""

import httpx
import openai
from openai import AsyncOpenAI

from helpdesk.core.netguard import AddressPolicy, AddressRefused, GuardedTransport

# The SDK's own pool size (its DefaultAsyncHttpxClient's); a transport of ours must say it again.
CONNECTION_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


class RefusedAddress(openai.APIConnectionError):
    """An AddressRefused, raised where the SDK will not retry it: it retries every error but its
    own, and an address refused now is refused again, only later."""


class _SdkTransport(GuardedTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except AddressRefused as refused:
            raise RefusedAddress(message=str(refused), request=request) from refused


def new_client(
    *,
    base_url: str,
    api_key: str,
    timeout: float,
    max_retries: int,
    policy: AddressPolicy | None,
) -> AsyncOpenAI:
    """A client for ``base_url`` (empty: OpenAI). ``policy``: where a tenant's endpoint may
    connect; ``None`` only for the operator's own endpoint."""
    http_client = None
    if policy is not None:
        # No environment proxies: a proxy would resolve the name itself, past the check.
        http_client = openai.DefaultAsyncHttpxClient(
            transport=_SdkTransport(policy, limits=CONNECTION_LIMITS), trust_env=False
        )
    return AsyncOpenAI(
        base_url=base_url or None,
        # Self-hosted servers often need no key; the SDK insists on one.
        api_key=api_key or "not-needed",
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        max_retries=max_retries,
        http_client=http_client,
    )


def describe_error(error: openai.APIError) -> str:
    """What went wrong, for a log line or an admin's error message (never the key)."""
    if isinstance(error, openai.APITimeoutError):
        return "the endpoint timed out"
    if isinstance(error, openai.APIConnectionError):
        return "the endpoint could not be reached"
    if isinstance(error, openai.RateLimitError):
        return "the endpoint is rate-limiting us (429)"
    if isinstance(error, openai.APIStatusError):
        return f"the endpoint failed with HTTP {error.status_code}"
    return f"the endpoint failed: {error}"
