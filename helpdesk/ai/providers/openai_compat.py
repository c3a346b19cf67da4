"""Any OpenAI-compatible chat-completions endpoint, through the official ``openai`` SDK.

Works with OpenAI itself and with self-hosted servers that differ in small ways: vLLM and Ollama
omit ``usage`` from streams, some llama.cpp builds reject ``stream_options``, many models have
no tool calling. Each difference is discovered once per endpoint (a 400 answer to the optional
part), remembered for the process, and degraded around — never a crash.

A tenant's endpoint is a URL a tenant typed: its client connects only where the server's address
policy allows, checked as each connection opens (helpdesk/core/netguard.py), so neither a private
address nor a name that later resolves to one is reached. The operator's own endpoint
(OPENAI_BASE_URL) gets the SDK's plain client.
"""

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import openai
from openai import AsyncOpenAI

from helpdesk.ai.providers.base import (
    Capabilities,
    EndpointRefused,
    HandoffRequested,
    ProviderError,
    ReplyRequest,
    StreamEvent,
    TextDelta,
    Usage,
)
from helpdesk.ai.sdk_client import RefusedAddress, describe_error, new_client
from helpdesk.conversations.handoff_reasons import BOT_ASKED, handoff_reason
from helpdesk.core.netguard import AddressPolicy

logger = logging.getLogger(__name__)

HANDOFF_TOOL = {
    "type": "function",
    "function": {
        "name": "handoff_to_human",
        "description": "Pass the conversation to a human agent: the customer asks for one, is "
        "upset, or needs something you cannot do.",
        "parameters": {
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "Why, in a few words."}},
            "required": ["reason"],
        },
    },
}


@dataclass
class _EndpointFeatures:
    """What we have learnt an endpoint accepts; optimistic until it says otherwise."""

    stream_options: bool = True
    tools: bool = True


# Process-wide: one pooled client per (endpoint, key, timeouts, policy), and what each endpoint
# accepts.
_clients: dict[tuple, AsyncOpenAI] = {}
_features: dict[str, _EndpointFeatures] = {}


def _client(
    base_url: str, api_key: str, timeout: float, max_retries: int, policy: AddressPolicy | None
) -> AsyncOpenAI:
    key = (base_url, hashlib.sha256(api_key.encode()).hexdigest(), timeout, max_retries, policy)
    client = _clients.get(key)
    if client is None:
        client = new_client(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            policy=policy,
        )
        _clients[key] = client
    return client


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float,
        max_retries: int,
        policy: AddressPolicy | None,
    ):
        """``policy``: where a tenant's endpoint may connect; ``None`` only for the operator's
        own endpoint (required, so that no caller leaves a tenant's URL unguarded by omission)."""
        self.base_url = base_url
        self.model = model
        self.client = _client(base_url, api_key, timeout, max_retries, policy)
        self.features = _features.setdefault(base_url or "openai", _EndpointFeatures())

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(tools=self.features.tools, usage_in_stream=self.features.stream_options)

    async def stream(self, request: ReplyRequest) -> AsyncIterator[StreamEvent]:
        # Retry once per optional feature the endpoint turns out not to accept: first
        # stream_options, then tools. Anything else is a real failure.
        for _ in range(3):
            try:
                response = await self._create(request)
            except openai.BadRequestError as error:
                if self._drop_unsupported_feature(request, error):
                    continue
                raise ProviderError(f"the endpoint refused the request: {error}") from error
            except RefusedAddress as error:
                raise EndpointRefused(str(error)) from error
            except openai.APIError as error:
                raise ProviderError(describe_error(error)) from error
            except (httpx.HTTPError, json.JSONDecodeError, ValueError) as error:
                # The SDK leaves a malformed body unwrapped.
                raise ProviderError(f"the endpoint sent a malformed answer: {error!r}") from error
            break
        else:
            raise ProviderError("the endpoint refused every form of the request")

        if not request.stream:
            async for event in self._events_from_completion(response):
                yield event
            return
        async for event in self._events_from_stream(response):
            yield event

    async def _create(self, request: ReplyRequest):
        kwargs = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": request.stream,
        }
        if request.stream and self.features.stream_options:
            kwargs["stream_options"] = {"include_usage": True}
        if request.offer_handoff_tool and self.features.tools:
            kwargs["tools"] = [HANDOFF_TOOL]
        return await self.client.chat.completions.create(**kwargs)

    def _drop_unsupported_feature(self, request: ReplyRequest, error: Exception) -> bool:
        message = str(error).lower()
        if request.stream and self.features.stream_options and "stream_options" in message:
            self.features.stream_options = False
        elif request.offer_handoff_tool and self.features.tools and "tool" in message:
            self.features.tools = False
        elif request.stream and self.features.stream_options:
            # Some servers reject unknown fields without naming them; stream_options is the
            # newest of ours, so it goes first.
            self.features.stream_options = False
        elif request.offer_handoff_tool and self.features.tools:
            self.features.tools = False
        else:
            return False
        logger.info(
            "Endpoint %s: retrying without an unsupported feature (%s)", self.base_url, error
        )
        return True

    async def _events_from_completion(self, completion) -> AsyncIterator[StreamEvent]:
        if not hasattr(completion, "choices"):
            # A 200 answer that is not JSON (an HTML error page from a proxy, say): the SDK
            # hands it back as a string.
            raise ProviderError("the endpoint answered with something other than a completion")
        choice = completion.choices[0] if completion.choices else None
        if choice is None:
            raise ProviderError("the endpoint answered without a choice")
        handoff = _handoff_from_tool_calls(choice.message.tool_calls or [])
        if choice.message.content:
            yield TextDelta(choice.message.content)
        if handoff is not None:
            yield handoff
        if completion.usage is not None:
            yield Usage(completion.usage.prompt_tokens, completion.usage.completion_tokens)

    async def _events_from_stream(self, stream) -> AsyncIterator[StreamEvent]:
        if not hasattr(stream, "__aiter__"):
            raise ProviderError("the endpoint answered with something other than a stream")
        tool_calls: dict[int, dict] = {}
        finished = False
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    yield Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta is not None and delta.content:
                        yield TextDelta(delta.content)
                    for call in (delta.tool_calls or []) if delta is not None else []:
                        slot = tool_calls.setdefault(call.index, {"name": "", "arguments": ""})
                        if call.function is not None:
                            slot["name"] += call.function.name or ""
                            slot["arguments"] += call.function.arguments or ""
                    if choice.finish_reason is not None:
                        finished = True
        except openai.APIError as error:
            raise ProviderError(describe_error(error)) from error
        except (httpx.HTTPError, json.JSONDecodeError, ValueError) as error:
            raise ProviderError(f"the stream broke off: {error!r}") from error
        if not finished:
            # The server closed the stream without a finish_reason: it was cut off midway.
            raise ProviderError("the stream ended before the reply was finished")
        handoff = _handoff_from_parts(tool_calls.values())
        if handoff is not None:
            yield handoff


def _handoff_from_tool_calls(calls) -> HandoffRequested | None:
    return _handoff_from_parts(
        {"name": c.function.name, "arguments": c.function.arguments or ""} for c in calls
    )


def _handoff_from_parts(parts) -> HandoffRequested | None:
    for part in parts:
        if part["name"] != "handoff_to_human":
            continue
        try:
            reason = json.loads(part["arguments"] or "{}").get("reason", "")
        except (ValueError, AttributeError):
            reason = ""
        return HandoffRequested(reason=handoff_reason(BOT_ASKED, str(reason)[:200]))
    return None
