"""The fake LLM server, exercised through the real openai SDK (sync and async clients).

These tests also pin down what the SDK raises for each injected failure (see README.md).
"""

import asyncio
import base64
import json
import subprocess
import sys
import time

import httpx
import numpy as np
import openai
import pytest

from tests.conftest import REPO_ROOT
from tests.fakes.llm_server import (
    DEFAULT_EMBEDDING_DIMENSIONS,
    FakeLLMServer,
    count_tokens,
    embedding_vector,
    tokenize,
    unused_url,
)

MODEL = "fake-model"
HELLO = [{"role": "user", "content": "hello there"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "handoff_to_human",
            "description": "Hand the conversation to a human agent.",
            "parameters": {
                "type": "object",
                "properties": {"reason": {"type": "string"}},
                "required": ["reason"],
            },
        },
    }
]
HANDOFF = {"name": "handoff_to_human", "arguments": {"reason": "customer asked for a human"}}


@pytest.fixture
def client(fake_llm):  # noqa: F811
    with openai.OpenAI(base_url=fake_llm.base_url, api_key="test", max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(fake_llm):  # noqa: F811
    async with openai.AsyncOpenAI(base_url=fake_llm.base_url, api_key="test", max_retries=0) as c:
        yield c


# ------------------------------------------------------------------ tokens


def test_tokenize_words_and_cjk():
    assert tokenize("Hello, big world") == ["Hello,", " big", " world"]
    assert tokenize("你好 world!") == ["你", "好", " world!"]
    text = "  mixed 日本語 text\n end  "
    assert "".join(tokenize(text)) == text
    assert count_tokens("こんにちは") == 5


# ------------------------------------------------------------------ happy paths


def test_non_streaming_reply_usage_and_recording(fake_llm, client):  # noqa: F811
    completion = client.chat.completions.create(model=MODEL, messages=HELLO)

    choice = completion.choices[0]
    assert choice.message.content == "Echo: hello there"
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    assert completion.model == MODEL
    assert completion.usage.completion_tokens == 3
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )

    [request] = fake_llm.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.authorization == "Bearer test"
    assert request.body["messages"] == HELLO
    assert request.stream is False
    assert fake_llm.total_requests == 1


async def test_streaming_deltas_assemble_the_text(fake_llm, aclient):  # noqa: F811
    fake_llm.script(reply="Bonjour, 世界! How are you?")
    stream = await aclient.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    chunks = [chunk async for chunk in stream]

    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Bonjour, 世界! How are you?"
    assert chunks[-1].choices[0].finish_reason == "stop"
    # Like OpenAI: no usage unless stream_options.include_usage.
    assert all(c.usage is None for c in chunks)
    assert fake_llm.last_request.stream is True


def test_usage_chunk_with_include_usage(client):
    stream = client.chat.completions.create(
        model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    last = chunks[-1]
    assert last.choices == []
    assert last.usage.completion_tokens == 3
    assert last.usage.total_tokens == last.usage.prompt_tokens + 3
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_usage_never(fake_llm, client):  # noqa: F811
    fake_llm.script(usage_never=True)
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)
    assert client.chat.completions.create(model=MODEL, messages=HELLO).usage is None


def test_usage_on_final_chunk(fake_llm, client):  # noqa: F811
    fake_llm.script(usage_on_final_chunk=True)
    chunks = list(client.chat.completions.create(model=MODEL, messages=HELLO, stream=True))
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.completion_tokens == 3


def test_stream_options_rejected(fake_llm, client):  # noqa: F811
    # Like OpenAI: stream_options without stream is a 400 by default.
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model=MODEL, messages=HELLO, stream_options={"include_usage": True}
        )
    fake_llm.script(reject_stream_options=True)
    with pytest.raises(openai.BadRequestError, match="stream_options") as excinfo:
        client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    assert excinfo.value.status_code == 400
    assert excinfo.value.body["param"] == "stream_options"
    # Without stream_options the same server streams fine.
    assert list(client.chat.completions.create(model=MODEL, messages=HELLO, stream=True))


def test_max_tokens_truncates_with_finish_reason_length(client):
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "one two three four"}], max_tokens=2
    )
    assert completion.choices[0].message.content == "Echo: one"
    assert completion.choices[0].finish_reason == "length"


def test_models_endpoint(client):
    assert [m.id for m in client.models.list()] == ["fake-model", "gpt-4o-mini"]


# ------------------------------------------------------------------ tools


async def test_streamed_tool_call_assembles(fake_llm, aclient):  # noqa: F811
    fake_llm.script(tool_call=HANDOFF)
    stream = await aclient.chat.completions.create(
        model=MODEL, messages=HELLO, tools=TOOLS, stream=True
    )
    calls: dict[int, dict] = {}
    finish = None
    async for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        assert not choice.delta.content
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
            call["id"] = delta.id or call["id"]
            if delta.function:
                call["name"] += delta.function.name or ""
                call["arguments"] += delta.function.arguments or ""

    assert finish == "tool_calls"
    assert list(calls) == [0]
    assert calls[0]["id"].startswith("call_")
    assert calls[0]["name"] == "handoff_to_human"
    assert json.loads(calls[0]["arguments"]) == HANDOFF["arguments"]


def test_non_streaming_tool_call(fake_llm, client):  # noqa: F811
    fake_llm.script(tool_call=HANDOFF)
    completion = client.chat.completions.create(model=MODEL, messages=HELLO, tools=TOOLS)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.function.name == "handoff_to_human"
    assert json.loads(call.function.arguments) == HANDOFF["arguments"]


def test_tool_call_needs_tools_in_the_request(fake_llm, client):  # noqa: F811
    fake_llm.script(tool_call=HANDOFF)
    completion = client.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.choices[0].message.content == "Echo: hello there"
    assert completion.choices[0].message.tool_calls is None


def test_no_tools_modes(fake_llm, client):  # noqa: F811
    fake_llm.script(tool_call=HANDOFF, no_tools="reject")
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=HELLO, tools=TOOLS)
    fake_llm.script(no_tools="ignore")
    completion = client.chat.completions.create(model=MODEL, messages=HELLO, tools=TOOLS)
    assert completion.choices[0].message.content == "Echo: hello there"
    assert completion.choices[0].finish_reason == "stop"


def test_rules_and_per_request_header(fake_llm, client):  # noqa: F811
    fake_llm.on(r"\bhuman\b", tool_call=HANDOFF)
    asked = [{"role": "user", "content": "Can I talk to a human?"}]
    completion = client.chat.completions.create(model=MODEL, messages=asked, tools=TOOLS)
    assert completion.choices[0].message.tool_calls[0].function.name == "handoff_to_human"
    completion = client.chat.completions.create(model=MODEL, messages=HELLO, tools=TOOLS)
    assert completion.choices[0].message.tool_calls is None

    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model=MODEL, messages=HELLO, extra_headers={"X-Fake-LLM": '{"fail": 502}'}
        )
    with pytest.raises(openai.BadRequestError, match="X-Fake-LLM"):
        client.chat.completions.create(
            model=MODEL, messages=HELLO, extra_headers={"X-Fake-LLM": '{"no_such_knob": 1}'}
        )
    with pytest.raises(TypeError, match="no_such_knob"):
        fake_llm.enqueue(no_such_knob=1)


# ------------------------------------------------------------------ HTTP errors


def test_429_rate_limit_with_retry_after(fake_llm, client):  # noqa: F811
    fake_llm.enqueue(fail=429, retry_after=7)
    with pytest.raises(openai.RateLimitError) as excinfo:
        client.chat.completions.create(model=MODEL, messages=HELLO)
    error = excinfo.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "7"
    assert error.code == "rate_limit_exceeded"
    assert error.body["type"] == "requests"


def test_queue_then_recover_with_sdk_retries(fake_llm):  # noqa: F811
    # First request 429 (Retry-After 50 ms), second 500, third fine: the SDK's retries get there.
    fake_llm.enqueue({"fail": 429, "retry_after": 0.05}, {"fail": 500, "retry_after": 0.05})
    with openai.OpenAI(base_url=fake_llm.base_url, api_key="test", max_retries=2) as client:
        completion = client.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.choices[0].message.content == "Echo: hello there"
    assert fake_llm.total_requests == 3
    assert fake_llm.queued == 0


@pytest.mark.parametrize("status", [500, 503])
async def test_5xx_is_internal_server_error(fake_llm, aclient, status):  # noqa: F811
    fake_llm.enqueue(fail=status)
    with pytest.raises(openai.InternalServerError) as excinfo:
        await aclient.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    assert excinfo.value.status_code == status
    # The next request is fine again.
    completion = await aclient.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.choices[0].message.content


def test_require_api_key(fake_llm, client):  # noqa: F811
    fake_llm.script(require_api_key="sk-right")
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model=MODEL, messages=HELLO)


# ------------------------------------------------------------------ hangs, garbage, cut-offs


def test_hang_times_out(fake_llm, client):  # noqa: F811
    fake_llm.enqueue(hang=True)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model=MODEL, messages=HELLO, timeout=0.3)
    assert time.monotonic() - started < 3
    # The server notices the client leaving and frees the request.
    deadline = time.monotonic() + 3
    while fake_llm.active_requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake_llm.active_requests == 0


async def test_slow_headers_time_out_async(fake_llm, aclient):  # noqa: F811
    fake_llm.enqueue(slow_headers=2)
    with pytest.raises(openai.APITimeoutError):
        await aclient.chat.completions.create(model=MODEL, messages=HELLO, timeout=0.3)


def test_hang_mid_stream_raises_httpx_read_timeout(fake_llm, client):  # noqa: F811
    fake_llm.enqueue(hang_after=1)
    stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True, timeout=0.3)
    received = []
    with pytest.raises(httpx.ReadTimeout):  # raw httpx: the SDK does not wrap stream errors
        received.extend(stream)
    assert "".join(c.choices[0].delta.content or "" for c in received) == "Echo:"


def test_garbage(fake_llm, client):  # noqa: F811
    fake_llm.enqueue({"garbage": True}, {"garbage": True}, {"garbage": "html"})
    with pytest.raises(json.JSONDecodeError):  # non-streaming: invalid JSON body
        client.chat.completions.create(model=MODEL, messages=HELLO)
    with pytest.raises(json.JSONDecodeError):  # streaming: invalid JSON in an SSE data line
        list(client.chat.completions.create(model=MODEL, messages=HELLO, stream=True))
    # A 200 text/html page: the SDK returns the page as a str instead of a ChatCompletion.
    result = client.chat.completions.create(model=MODEL, messages=HELLO)
    assert isinstance(result, str)
    assert "Bad Gateway" in result


def test_cut_off_stream(fake_llm, client):  # noqa: F811
    fake_llm.script(reply="one two three four five")
    fake_llm.enqueue(cut_off_after=2)
    stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    received = []
    with pytest.raises(httpx.RemoteProtocolError):  # incomplete chunked read
        received.extend(stream)
    assert "".join(c.choices[0].delta.content or "" for c in received) == "one two"


async def test_cut_off_clean_stream_just_ends(fake_llm, aclient):  # noqa: F811
    fake_llm.script(reply="one two three four five")
    fake_llm.enqueue(cut_off_after=3, cut_off_clean=True)
    stream = await aclient.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    chunks = [c async for c in stream]  # no exception: iteration simply stops
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "one two three"
    assert all(c.choices[0].finish_reason is None for c in chunks)


def test_cut_off_non_streaming_is_connection_error(fake_llm, client):  # noqa: F811
    fake_llm.enqueue(cut_off_after=0)
    with pytest.raises(openai.APIConnectionError) as excinfo:
        client.chat.completions.create(model=MODEL, messages=HELLO)
    assert not isinstance(excinfo.value, openai.APITimeoutError)
    assert isinstance(excinfo.value.__cause__, httpx.RemoteProtocolError)


def test_error_event_mid_stream(fake_llm, client):  # noqa: F811
    fake_llm.enqueue(stream_error_after=1, error_message="model overloaded")
    with pytest.raises(openai.APIError, match="model overloaded") as excinfo:
        list(client.chat.completions.create(model=MODEL, messages=HELLO, stream=True))
    assert not isinstance(excinfo.value, openai.APIStatusError)


def test_connection_refused_after_stop_and_restart_on_same_port():
    server = FakeLLMServer().start()
    url = server.base_url
    client = openai.OpenAI(base_url=url, api_key="test", max_retries=0, timeout=2)
    try:
        server.stop()
        with pytest.raises(openai.APIConnectionError) as excinfo:
            client.chat.completions.create(model=MODEL, messages=HELLO)
        assert not isinstance(excinfo.value, openai.APITimeoutError)
        assert isinstance(excinfo.value.__cause__, httpx.ConnectError)
        server.start()
        assert server.base_url == url
        assert client.chat.completions.create(model=MODEL, messages=HELLO).choices
    finally:
        client.close()
        server.stop()
    with (
        openai.OpenAI(base_url=unused_url() + "/v1", api_key="t", max_retries=0) as refused,
        pytest.raises(openai.APIConnectionError),
    ):
        refused.models.list()


# ------------------------------------------------------------------ timing and load


async def test_ttft_and_token_rate_roughly_honoured(fake_llm, aclient):  # noqa: F811
    fake_llm.script(reply=" ".join(["word"] * 11), ttft=0.3, tokens_per_second=40)
    started = time.monotonic()
    stream = await aclient.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    first_token = None
    async for chunk in stream:
        if first_token is None and chunk.choices and chunk.choices[0].delta.content:
            first_token = time.monotonic() - started
    total = time.monotonic() - started
    # 11 tokens at 40/s after a 0.3 s ttft: first ~0.3 s, last ~0.3 + 10/40 = 0.55 s.
    assert 0.25 <= first_token < 2
    assert total - first_token >= 0.2
    assert total < 3


async def test_200_concurrent_streams(fake_llm):  # noqa: F811
    fake_llm.script(ttft=0.2, tokens_per_second=200)
    async with openai.AsyncOpenAI(
        base_url=fake_llm.base_url, api_key="test", max_retries=0
    ) as aclient:

        async def one(i: int) -> str:
            messages = [{"role": "user", "content": f"request {i}"}]
            stream = await aclient.chat.completions.create(
                model=MODEL, messages=messages, stream=True
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream])

        started = time.monotonic()
        texts = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(200))), 15)
    assert texts == [f"Echo: request {i}" for i in range(200)]
    assert fake_llm.total_requests == 200
    assert fake_llm.peak_concurrency >= 50
    assert time.monotonic() - started < 8


# ------------------------------------------------------------------ embeddings

EMBEDDING_MODEL = "text-embedding-3-small"


def cosine(a, b) -> float:
    return float(np.dot(a, b))


def test_embedding_vectors_are_unit_length_deterministic_and_closer_for_shared_words():
    vector = embedding_vector("Deliveries arrive within two days.")

    assert len(vector) == DEFAULT_EMBEDDING_DIMENSIONS
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    assert vector == embedding_vector("Deliveries arrive within two days.")
    assert len(embedding_vector("!!!", 8)) == 8
    # "delivered" shares most of its trigrams with "deliveries"; "weather" none.
    delivered = embedding_vector("delivered?")
    assert cosine(delivered, vector) > 0.3
    assert abs(cosine(embedding_vector("weather on mars"), vector)) < 0.1
    assert cosine(embedding_vector("退货政策"), embedding_vector("怎么退货")) > 0.3


def test_embeddings_as_the_sdk_asks_by_default_base64(fake_llm, client):  # noqa: F811
    response = client.embeddings.create(
        model=EMBEDDING_MODEL, input=["Deliveries arrive.", "We accept Visa."]
    )

    # The SDK asks for base64 unless told otherwise and decodes it to floats itself.
    [request] = fake_llm.embedding_requests
    assert request.body["encoding_format"] == "base64"
    assert [item.index for item in response.data] == [0, 1]
    assert response.data[0].embedding == pytest.approx(embedding_vector("Deliveries arrive."))
    assert response.data[1].embedding == pytest.approx(embedding_vector("We accept Visa."))
    assert response.model == EMBEDDING_MODEL
    expected_tokens = count_tokens("Deliveries arrive.") + count_tokens("We accept Visa.")
    assert response.usage.prompt_tokens == response.usage.total_tokens == expected_tokens


async def test_embeddings_as_floats_with_dimensions_for_one_string(fake_llm, aclient):  # noqa: F811
    response = await aclient.embeddings.create(
        model=EMBEDDING_MODEL, input="Deliveries arrive.", encoding_format="float", dimensions=64
    )

    [item] = response.data
    assert item.embedding == pytest.approx(embedding_vector("Deliveries arrive.", 64))
    assert fake_llm.embedding_requests[0].body["dimensions"] == 64


def test_base64_is_float32_little_endian(fake_llm):  # noqa: F811
    answer = httpx.post(
        fake_llm.base_url + "/embeddings",
        json={"model": EMBEDDING_MODEL, "input": "hi there", "encoding_format": "base64"},
    ).json()

    raw = answer["data"][0]["embedding"]
    decoded = np.frombuffer(base64.b64decode(raw), dtype="<f4")
    assert decoded.tolist() == pytest.approx(embedding_vector("hi there"), abs=1e-7)


def test_ignore_encoding_format_answers_floats_like_older_self_hosted_servers(
    fake_llm,  # noqa: F811
    client,
):
    fake_llm.script(ignore_encoding_format=True)

    response = client.embeddings.create(model=EMBEDDING_MODEL, input="hi there")

    # The SDK asked for base64, got floats, and passed them through.
    assert response.data[0].embedding == pytest.approx(embedding_vector("hi there"))
    assert fake_llm.embedding_requests[0].body["encoding_format"] == "base64"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "hi"}, "model"),
        ({"model": EMBEDDING_MODEL, "input": ""}, "input"),
        ({"model": EMBEDDING_MODEL, "input": []}, "input"),
        ({"model": EMBEDDING_MODEL, "input": [[1, 2, 3]]}, "input"),
        ({"model": EMBEDDING_MODEL, "input": ["x"] * 2049}, "input"),
        ({"model": EMBEDDING_MODEL, "input": "hi", "dimensions": 0}, "dimensions"),
        ({"model": EMBEDDING_MODEL, "input": "hi", "encoding_format": "int8"}, "encoding_format"),
    ],
)
def test_invalid_embeddings_requests_get_a_400_naming_the_parameter(fake_llm, body, param):  # noqa: F811
    answer = httpx.post(fake_llm.base_url + "/embeddings", json=body)

    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param


def test_embeddings_failures_are_injected_like_chat_failures(fake_llm, client):  # noqa: F811
    fake_llm.on(r"refund", times=1, fail=503)
    fake_llm.enqueue({"fail": 429, "retry_after": 0.05}, {"garbage": True}, {"cut_off_after": 0})

    with pytest.raises(openai.RateLimitError):
        client.embeddings.create(model=EMBEDDING_MODEL, input="hello")
    with pytest.raises(json.JSONDecodeError):
        client.embeddings.create(model=EMBEDDING_MODEL, input="hello")
    with pytest.raises(openai.APIConnectionError):
        client.embeddings.create(model=EMBEDDING_MODEL, input="hello")
    # Rules match any of the inputs.
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model=EMBEDDING_MODEL, input=["hello", "refund policy"])
    assert client.embeddings.create(model=EMBEDDING_MODEL, input="refund").data
    assert [r.behaviour.fail for r in fake_llm.embedding_requests] == [429, None, None, 503, None]


def test_embeddings_hang_times_out_and_needs_the_api_key_when_asked(fake_llm, client):  # noqa: F811
    fake_llm.enqueue(hang=True)
    with pytest.raises(openai.APITimeoutError):
        client.embeddings.create(model=EMBEDDING_MODEL, input="hello", timeout=0.3)

    fake_llm.script(require_api_key="sk-right")
    with pytest.raises(openai.AuthenticationError):
        client.embeddings.create(model=EMBEDDING_MODEL, input="hello")


def test_embeddings_model_override_and_usage_never(fake_llm, client):  # noqa: F811
    fake_llm.script(model="nomic-embed-text", usage_never=True)

    response = client.embeddings.create(
        model=EMBEDDING_MODEL, input="hello", encoding_format="float"
    )

    assert (response.model, response.usage) == ("nomic-embed-text", None)


# ------------------------------------------------------------------ out of process


def test_standalone_process_and_control_endpoints():
    port = int(unused_url().rsplit(":", 1)[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm_server", "--port", str(port), "--ttft", "0.01"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "listening on" in line, line
        base = f"http://127.0.0.1:{port}"
        httpx.post(f"{base}/_fake/enqueue", json=[{"fail": 503}]).raise_for_status()
        with openai.OpenAI(base_url=base + "/v1", api_key="test", max_retries=0) as client:
            with pytest.raises(openai.InternalServerError):
                client.chat.completions.create(model=MODEL, messages=HELLO)
            stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in stream) == (
                "Echo: hello there"
            )
        assert httpx.get(f"{base}/_fake/stats").json()["total"] == 2
    finally:
        process.terminate()
        process.wait(5)
