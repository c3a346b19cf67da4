"""Create a load-test tenant with N visitors, each with an open conversation and a token.

Run with the same environment as the servers (DATABASE_URL, REDIS_URL, SECRET_KEY):
    python deploy/loadtest/prepare.py --visitors 5000 --out var/loadtest.json
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from helpdesk.ai.models import BotConfig  # noqa: E402
from helpdesk.conversations.models import Contact, Conversation  # noqa: E402
from helpdesk.tenants.models import Inbox, Membership, Tenant  # noqa: E402
from helpdesk.tenants.services import membership_create  # noqa: E402
from helpdesk.widget.services import Visitor, visitor_token_renew  # noqa: E402

# The checkout's tests/ (run.py runs this script from one; the server image has no tests/).
from tests.support.sessions import session_cookie  # noqa: E402

ORIGIN = "http://loadtest.invalid"


def prepare(visitors: int, agents: int, bot_base_url: str | None = None) -> dict:
    with transaction.atomic():
        Tenant.objects.filter(slug="loadtest").delete()
        tenant = Tenant.objects.create(slug="loadtest", name="Load test")
        bot = None
        if bot_base_url:
            # Answers at once (no batch window), streaming through the relay every 50 ms.
            bot = BotConfig(
                tenant=tenant,
                provider=BotConfig.Provider.OPENAI,
                base_url=bot_base_url,
                model="fake-model",
                batch_window_ms=0,
                delta_interval_ms=50,
                breaker_failure_threshold=1000,
            )
            bot.api_key = "loadtest"
            bot.save()
        inbox = Inbox.objects.create(tenant=tenant, name="Load", allowed_origins=ORIGIN, bot=bot)
        contacts = Contact.objects.bulk_create(Contact(tenant=tenant) for _ in range(visitors))
        # As conversation_start() leaves them: with the bot if the inbox has one, otherwise
        # waiting for an agent.
        if bot is None:
            state = {"status": Conversation.Status.QUEUED, "queued_at": timezone.now()}
        else:
            state = {"status": Conversation.Status.BOT}
        conversations = Conversation.objects.bulk_create(
            Conversation(tenant=tenant, inbox=inbox, contact=c, **state) for c in contacts
        )
        users = []
        for n in range(agents):
            Membership.objects.filter(user__username=f"loadtest-agent-{n}").delete()
            from django.contrib.auth import get_user_model

            get_user_model().objects.filter(username=f"loadtest-agent-{n}").delete()
            users.append(
                membership_create(
                    tenant=tenant,
                    username=f"loadtest-agent-{n}",
                    password="loadtest-password-1",
                ).user
            )
    return {
        "origin": ORIGIN,
        "inbox": inbox.public_key,
        "visitors": [
            {
                "token": visitor_token_renew(Visitor(tenant=tenant, inbox=inbox, contact=contact)),
                "conversation": conversation.pk,
            }
            for contact, conversation in zip(contacts, conversations, strict=True)
        ],
        "agent_cookies": [session_cookie(user) for user in users],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, required=True)
    parser.add_argument("--agents", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bot-base-url", help="give the inbox an OpenAI-compatible bot here")
    args = parser.parse_args()
    args.out.write_text(json.dumps(prepare(args.visitors, args.agents, args.bot_base_url)))
    print(f"prepared {args.visitors} visitors and {args.agents} agents in {args.out}")
