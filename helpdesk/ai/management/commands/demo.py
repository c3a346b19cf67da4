"""``manage.py demo``: set up a working demo, then serve it with daphne.

It runs ``compile_catalogs``, ``migrate``, ``build_widget`` and ``collectstatic``, then makes
sure these exist, creating only what is missing (running it again changes nothing and
duplicates nothing):

- the tenant "Demo Shop" (slug ``demo``) with its admin ``admin`` and the agents ``alice`` and
  ``bob``;
- the inbox "Website", whose widget may be used from this server's own pages;
- the bot "Shop assistant", which answers that inbox: from the tenant's knowledge articles
  (the 21 bilingual entries of helpdesk/ai/demo_knowledge.py, added when the tenant has none)
  unless ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set, in which case it uses that
  OpenAI-compatible API, grounded in the same articles. Each run brings
  the bot's provider, endpoint and key in line with those variables, and gives the inbox the
  bot if it has none;
- the superuser ``root``, who manages tenants.

Passwords are made up on the first run and kept in ``VAR_DIR/demo-credentials.json``, so every
run prints the same ones. ``--no-serve`` stops after the set-up (tests and CI use it).
"""

import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.management.commands.runserver import naiveip_re
from django.db import transaction
from django.http.request import validate_host
from django.urls import Resolver404, resolve

from helpdesk.ai.demo_knowledge import DEMO_ARTICLES
from helpdesk.ai.forms import normalise_endpoint
from helpdesk.ai.knowledge.services import tenant_reindex
from helpdesk.ai.models import BotConfig, KnowledgeArticle, KnowledgeSource
from helpdesk.core.startup import verify_services
from helpdesk.tenants.models import Inbox, Membership, Tenant, parse_origins, validate_origins
from helpdesk.tenants.services import membership_add, membership_create

DEFAULT_ADDRPORT = "127.0.0.1:8000"
TENANT_SLUG = "demo"
TENANT_NAME = "Demo Shop"
INBOX_NAME = "Website"
SUPERUSER = "root"
MEMBERS = (
    ("admin", Membership.Role.ADMIN),
    ("alice", Membership.Role.AGENT),
    ("bob", Membership.Role.AGENT),
)
CREDENTIALS_FILE = "demo-credentials.json"
BOT_NAME = "Shop assistant"
BOT_SYSTEM_PROMPT = (
    "You are the customer-service assistant of Demo Shop, an online shop. Answer briefly and "
    "in the customer's language (English or Chinese). Use the facts you are given; if you do "
    "not know something about an order or a policy, say so and offer to pass the customer to a "
    "member of the team."
)

_ANY_ADDRESS = {"0.0.0.0", "::"}


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @property
    def browser_host(self) -> str:
        """The host a browser on this machine uses, as it appears in a URL."""
        return _url_host("127.0.0.1" if self.host in _ANY_ADDRESS else self.host)

    @property
    def base_url(self) -> str:
        return f"http://{self.browser_host}:{self.port}"

    def origins(self) -> list[str]:
        """The origins of this server's own pages, which the demo widget must accept."""
        hosts = ["127.0.0.1", "localhost"]
        if self.host not in _ANY_ADDRESS and self.host not in hosts:
            hosts.append(self.host)
        return [f"http://{_url_host(host)}:{self.port}" for host in hosts]


def parse_addrport(value: str) -> Address:
    match = naiveip_re.match(value.strip())
    if match is None:
        raise CommandError(
            f"--addrport must be PORT or HOST:PORT (e.g. {DEFAULT_ADDRPORT}), got {value!r}"
        )
    port = int(match["port"])
    if not 0 < port < 65536:
        raise CommandError(f"--addrport: the port must be between 1 and 65535, got {port}")
    return Address(host=(match["addr"] or "127.0.0.1").strip("[]"), port=port)


@dataclass(frozen=True)
class Account:
    username: str
    password: str | None  # None when someone changed it after the demo set it
    description: str


@dataclass(frozen=True)
class DemoSetup:
    tenant: Tenant
    inbox: Inbox
    bot: BotConfig
    accounts: list[Account]
    changes: list[str]  # what this run created or changed; empty when all was in place


def demo_setup(address: Address, credentials_path: Path) -> DemoSetup:
    """Create whatever part of the demo is missing. Safe to run any number of times."""
    passwords = _load_passwords(credentials_path)
    saved = dict(passwords)
    changes: list[str] = []
    with transaction.atomic():
        tenant, created = Tenant.objects.get_or_create(
            slug=TENANT_SLUG, defaults={"name": TENANT_NAME}
        )
        if created:
            changes.append(f"tenant {tenant.name!r}")
        inbox = _ensure_inbox(tenant, address, changes)
        bot = _ensure_bot(tenant, inbox, changes)
        accounts = [_ensure_user(SUPERUSER, passwords, changes)]
        accounts += [
            _ensure_user(username, passwords, changes, tenant=tenant, role=role)
            for username, role in MEMBERS
        ]
        # Written inside the transaction: if the file cannot be written, no user is created
        # whose password would then be unknown.
        if passwords != saved:
            _save_passwords(credentials_path, passwords)
    return DemoSetup(tenant=tenant, inbox=inbox, bot=bot, accounts=accounts, changes=changes)


def _ensure_inbox(tenant: Tenant, address: Address, changes: list[str]) -> Inbox:
    wanted = address.origins()
    inbox = Inbox.objects.filter(tenant=tenant, name=INBOX_NAME).order_by("pk").first()
    if inbox is None:
        inbox = Inbox(tenant=tenant, name=INBOX_NAME, allowed_origins="\n".join(wanted))
        _validate_origins(inbox.allowed_origins)
        inbox.save()
        changes.append(f"inbox {INBOX_NAME!r}")
        return inbox
    missing = [origin for origin in wanted if origin not in parse_origins(inbox.allowed_origins)]
    if missing:
        inbox.allowed_origins = "\n".join([inbox.allowed_origins.strip(), *missing]).strip()
        _validate_origins(inbox.allowed_origins)
        inbox.save(update_fields=["allowed_origins"])
        changes.append(f"allowed origins of inbox {INBOX_NAME!r}: {', '.join(missing)}")
    return inbox


def _ensure_bot(tenant: Tenant, inbox: Inbox, changes: list[str]) -> BotConfig:
    """The demo bot: FAQ unless OPENAI_API_KEY or OPENAI_BASE_URL is set, then that API."""
    use_api = bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)
    base_url = normalise_endpoint(settings.OPENAI_BASE_URL)
    provider = BotConfig.Provider.OPENAI if use_api else BotConfig.Provider.FAQ
    bot = BotConfig.objects.filter(tenant=tenant, name=BOT_NAME).order_by("pk").first()
    if bot is None:
        bot = BotConfig(tenant=tenant, name=BOT_NAME, system_prompt=BOT_SYSTEM_PROMPT)
        created = True
    else:
        created = False
    updated = []
    if bot.provider != provider:
        bot.provider = provider
        updated.append("provider")
    # Without the variables the endpoint and key are left as they are: switching back to the
    # FAQ loses nothing an admin typed in.
    if use_api and bot.base_url != base_url:
        bot.base_url = base_url
        updated.append("base URL")
    if use_api and bot.api_key != settings.OPENAI_API_KEY:
        bot.api_key = settings.OPENAI_API_KEY
        updated.append("API key")
    if created or updated:
        bot.full_clean()
        bot.save()
        what = "an OpenAI-compatible API" if use_api else "the FAQ"
        if created:
            changes.append(f"bot {BOT_NAME!r} (answers from {what})")
        else:
            changes.append(f"{', '.join(updated)} of bot {BOT_NAME!r} (answers from {what})")

    if not KnowledgeArticle.objects.filter(tenant=tenant).exists():
        KnowledgeArticle.objects.bulk_create(
            KnowledgeArticle(tenant=tenant, **article) for article in DEMO_ARTICLES
        )
        changes.append(f"{len(DEMO_ARTICLES)} knowledge articles")
    # Also for a demo set up before articles had chunks.
    if not KnowledgeSource.objects.filter(tenant=tenant).exists():
        chunks = tenant_reindex(tenant=tenant)
        if chunks:
            changes.append(f"{chunks} knowledge chunks")
    if inbox.bot_id is None:
        inbox.bot = bot
        inbox.save(update_fields=["bot"])
        changes.append(f"inbox {inbox.name!r} answered by bot {BOT_NAME!r}")
    return bot


def _validate_origins(value: str) -> None:
    try:
        validate_origins(value)
    except ValidationError as exc:
        raise CommandError(f"--addrport gives an origin the inbox rejects: {exc}") from None


def _ensure_user(
    username: str,
    passwords: dict[str, str],
    changes: list[str],
    *,
    tenant: Tenant | None = None,
    role: Membership.Role | None = None,
) -> Account:
    """A superuser when ``tenant`` is None, else a member of ``tenant`` with ``role``."""
    user_model = get_user_model()
    user = user_model.objects.filter(username__iexact=username).first()
    password = passwords.get(username)
    if user is None:
        password = password or _new_password()
        if tenant is None:
            user_model.objects.create_superuser(username=username, email="", password=password)
        else:
            membership_create(tenant=tenant, username=username, password=password, role=role)
        passwords[username] = password
        changes.append(f"user {username!r}")
    else:
        if tenant is None and not user.is_superuser:
            raise CommandError(
                f"User {username!r} exists but is not a superuser; rename or remove that user "
                "and run demo again."
            )
        if tenant is not None:
            _ensure_membership(user, tenant, role, changes)
        if password is None:
            # The database outlived the credentials file, so nobody knows the password.
            password = _new_password()
            user.set_password(password)
            user.save(update_fields=["password"])
            passwords[username] = password
            changes.append(f"a new password for {username!r} (it was not in {CREDENTIALS_FILE})")
        elif not user.check_password(password):
            password = None
    return Account(username=username, password=password, description=_describe(tenant, role))


def _ensure_membership(user, tenant: Tenant, role: Membership.Role, changes: list[str]) -> None:
    membership = Membership.objects.select_related("tenant").filter(user=user).first()
    if membership is None:
        membership_add(tenant=tenant, user=user, role=role)
        changes.append(f"{user.username!r} joins {tenant.name!r} as {role.label.lower()}")
    elif membership.tenant_id != tenant.pk:
        raise CommandError(
            f"User {user.username!r} already belongs to tenant {membership.tenant.slug!r}; "
            "rename or remove that user and run demo again."
        )


def _describe(tenant: Tenant | None, role: Membership.Role | None) -> str:
    if tenant is None:
        return "superuser: manages tenants in the admin"
    if role == Membership.Role.ADMIN:
        return f"{tenant.name} admin: bots, widgets and agents in the admin"
    return f"{tenant.name} agent: answers customers in the console"


def _new_password() -> str:
    return secrets.token_urlsafe(12)


def _load_passwords(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CommandError(
            f"{path} cannot be read ({exc}); delete it and run demo again to get new passwords."
        ) from None
    if not isinstance(data, dict):
        return {}
    return {name: value for name, value in data.items() if isinstance(value, str) and value}


def _save_passwords(path: Path, passwords: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(passwords, file, indent=2, sort_keys=True)
        file.write("\n")
    os.replace(temporary, path)


class Command(BaseCommand):
    help = (
        "Set up the demo (migrate, collectstatic, a demo tenant with an admin, two agents, an "
        "inbox with its bot and a superuser; creating only what is missing) and serve it with "
        "daphne."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--addrport",
            default=DEFAULT_ADDRPORT,
            help=f"Where daphne listens: PORT or HOST:PORT (default {DEFAULT_ADDRPORT}). The "
            "demo inbox accepts the widget from this address.",
        )
        parser.add_argument(
            "--no-serve",
            action="store_false",
            dest="serve",
            help="Set everything up, print the accounts and stop without serving.",
        )

    def handle(self, *args, addrport: str, serve: bool, **options):
        address = parse_addrport(addrport)
        verbosity = options["verbosity"]
        out, err = options.get("stdout"), options.get("stderr")

        var_dir = Path(settings.VAR_DIR)
        var_dir.mkdir(parents=True, exist_ok=True)
        verify_services()  # a wrong DATABASE_URL / REDIS_URL fails here, naming the variable

        call_command("compile_catalogs", verbosity=verbosity, stdout=out, stderr=err)
        call_command("migrate", interactive=False, verbosity=verbosity, stdout=out, stderr=err)
        call_command("build_widget", verbosity=verbosity, stdout=out, stderr=err)
        call_command(
            "collectstatic", interactive=False, verbosity=verbosity, stdout=out, stderr=err
        )
        setup = demo_setup(address, var_dir / CREDENTIALS_FILE)
        self._report(setup, address, var_dir / CREDENTIALS_FILE)
        if serve:
            self._serve(address)

    def _report(self, setup: DemoSetup, address: Address, credentials_path: Path) -> None:
        write = self.stdout.write
        write("")
        if setup.changes:
            write(
                self.style.SUCCESS("Demo set up. Created or changed: " + "; ".join(setup.changes))
            )
        else:
            write(self.style.SUCCESS("Demo already set up; nothing to change."))
        base = address.base_url
        try:
            resolve("/console/")
            console_note = ""
        except Resolver404:
            console_note = "  (coming in a later release)"
        write("")
        write(f"  Visitor page with the chat widget  {base}/")
        write(f"  Admin                              {base}/admin/")
        write(f"  Agent console                      {base}/console/{console_note}")
        write("")
        width = max(len(account.password or "") for account in setup.accounts)
        width = max(width, len("password"))
        write(f"  {'username':<10}{'password':<{width + 2}}who")
        for account in setup.accounts:
            password = account.password or "(changed since the demo set it)"
            write(f"  {account.username:<10}{password:<{width + 2}}{account.description}")
        write("")
        write(f"  Passwords are kept in {credentials_path}.")
        write(f"  The inbox {setup.inbox.name!r} has the widget key {setup.inbox.public_key}.")
        write(f"  {self._describe_bot(setup)}")
        if address.host in _ANY_ADDRESS:
            write(
                self.style.WARNING(
                    f"  Listening on every interface: to reach it from other machines, add the "
                    f"name they use to ALLOWED_HOSTS and its http://NAME:{address.port} origin "
                    "to the inbox in the admin."
                )
            )
        if not validate_host(address.browser_host, settings.ALLOWED_HOSTS):
            write(
                self.style.WARNING(
                    f"  {address.browser_host} is not in ALLOWED_HOSTS: set ALLOWED_HOSTS (and "
                    "CSRF_TRUSTED_ORIGINS) to the names browsers use to reach this server."
                )
            )
        write("")

    @staticmethod
    def _describe_bot(setup: DemoSetup) -> str:
        bot = setup.bot
        if setup.inbox.bot_id != bot.pk:
            return f"The inbox is answered by another bot than {bot.name!r}, as set in the admin."
        if bot.provider == BotConfig.Provider.OPENAI:
            endpoint = bot.base_url or "api.openai.com"
            return f"The bot {bot.name!r} answers with the model {bot.model!r} at {endpoint}."
        count = KnowledgeArticle.objects.filter(tenant=setup.tenant, is_active=True).count()
        return (
            f"The bot {bot.name!r} answers from {count} knowledge articles (set OPENAI_API_KEY "
            "or OPENAI_BASE_URL to answer with a model instead)."
        )

    def _serve(self, address: Address) -> None:
        from daphne.access import AccessLogGenerator
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from helpdesk.asgi import application  # runs the startup checks once more

        self.stdout.write(f"Serving {address.base_url}/ with daphne. Press Ctrl-C to stop.")
        server = Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=address.host, port=address.port),
            action_logger=AccessLogGenerator(sys.stdout),
            root_path=settings.FORCE_SCRIPT_NAME or "",
        )
        server.run()
        if server.abort_start:
            raise CommandError(
                f"daphne could not listen on {address.host}:{address.port} (is another server "
                "using that port?); choose another with --addrport."
            )
