"""``manage.py import_ai_toml --tenant SLUG FILE``: a GoFly-style ``ai_plugins.toml`` as a bot.

The file's ``[chatgpt]`` table (the seed's format) becomes the tenant's OpenAI-compatible bot::

    [chatgpt]
    enabled = true           # -> is_active
    api_key = "sk-..."       # -> stored encrypted
    endpoint = "https://api.openai.com/v1/chat/completions"
                             # -> base_url, less /chat/completions (the SDK adds it)
    context_window = 5       # -> context_turns: the last 5 rounds
    model = "gpt-4o-mini"    # optional, not in the seed

Every key is optional: a missing one keeps the bot's current value (or its default, for a new
bot). Running it again with the same file changes nothing. The key is never printed.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from helpdesk.ai.forms import normalise_endpoint, validate_endpoint
from helpdesk.ai.models import BotConfig
from helpdesk.tenants.models import Inbox, Tenant

TABLE = "chatgpt"
DEFAULT_BOT_NAME = "ChatGPT"
CONTEXT_FIELD = BotConfig._meta.get_field("context_turns")
CURLY_QUOTES = "“”‘’„«»"
KNOWN_KEYS = {
    "enabled": bool,
    "api_key": str,
    "endpoint": str,
    "context_window": int,
    "model": str,
}
TYPE_NAMES = {bool: "true or false", str: "a string in quotes", int: "a whole number"}
PLACEHOLDER_KEYS = {"your-openai-key", "your-api-key", "sk-xxx", "sk-..."}


@dataclass(frozen=True)
class ChatGPTTable:
    enabled: bool | None = None
    api_key: str | None = None
    endpoint: str | None = None
    context_window: int | None = None
    model: str | None = None


def _context_limits() -> tuple[int, int]:
    low, high = 0, 50
    for validator in CONTEXT_FIELD.validators:
        if validator.code == "min_value":
            low = validator.limit_value
        elif validator.code == "max_value":
            high = validator.limit_value
    return low, high


def parse_ai_toml(path: Path) -> ChatGPTTable:
    """Read and check the file; every problem is a CommandError that names it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory, not a TOML file.") from None
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM from Windows editors is fine
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text; TOML files must be UTF-8.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = f"{path} is not valid TOML: {exc}."
        curly = sorted({ch for ch in text if ch in CURLY_QUOTES})
        if curly:
            # The seed's own example is typeset with “ ”, as text copied from a web page or a
            # word processor often is.
            message += (
                f" It contains curly quotes ({' '.join(curly)}); TOML strings need straight "
                'quotes: api_key = "…", not api_key = “…”.'
            )
        raise CommandError(message) from None

    table = data.get(TABLE)
    if table is None:
        found = ", ".join(f"[{name}]" for name in data if isinstance(data[name], dict))
        raise CommandError(
            f"{path} has no [{TABLE}] table" + (f" (it has {found})." if found else ".")
        )
    if not isinstance(table, dict):
        raise CommandError(f"In {path}, {TABLE} must be a table ([{TABLE}]), not a single value.")

    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise CommandError(
            f"Unknown key(s) in [{TABLE}] of {path}: {', '.join(unknown)}. "
            f"Known: {', '.join(KNOWN_KEYS)}."
        )
    for key, expected in KNOWN_KEYS.items():
        if key not in table:
            continue
        value = table[key]
        # bool is a kind of int in Python; context_window = true is still wrong.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            # The value itself is shown, except the key's.
            shown = "" if key == "api_key" else f" ({value!r})"
            raise CommandError(
                f"[{TABLE}] {key} must be {TYPE_NAMES[expected]}, got {_toml_type(value)}{shown}."
            )

    config = ChatGPTTable(**table)
    if config.context_window is not None:
        low, high = _context_limits()
        if not low <= config.context_window <= high:
            raise CommandError(
                f"[{TABLE}] context_window must be between {low} and {high} (rounds of "
                f"conversation the bot sees), got {config.context_window}."
            )
    if config.endpoint is not None:
        endpoint = normalise_endpoint(config.endpoint)
        if endpoint:
            try:
                validate_endpoint(endpoint)
            except ValidationError as exc:
                raise CommandError(f"[{TABLE}] endpoint {endpoint!r}: {exc.messages[0]}") from None
        config = ChatGPTTable(**{**config.__dict__, "endpoint": endpoint})
    if config.api_key is not None and any(ch.isspace() for ch in config.api_key.strip()):
        raise CommandError(f"[{TABLE}] api_key has spaces or line breaks in it.")
    if config.model is not None and not config.model.strip():
        raise CommandError(f"[{TABLE}] model must not be empty.")
    return config


def _toml_type(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class Command(BaseCommand):
    help = (
        "Import the [chatgpt] table of a GoFly-style ai_plugins.toml (enabled, api_key, "
        "endpoint, context_window) as a tenant's OpenAI-compatible bot, creating or updating "
        "the bot of that name; optionally attach it to an inbox."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The TOML file, e.g. config/ai_plugins.toml.")
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument(
            "--bot-name",
            default=DEFAULT_BOT_NAME,
            help=f"The bot to create or update (default {DEFAULT_BOT_NAME!r}).",
        )
        parser.add_argument(
            "--inbox", help="Also make this bot answer the tenant's inbox of this name."
        )

    def handle(self, *args, path: Path, tenant: str, bot_name: str, inbox: str | None, **options):
        config = parse_ai_toml(path)
        bot_name = bot_name.strip()
        if not bot_name:
            raise CommandError("--bot-name must not be empty.")
        tenant_row = Tenant.objects.filter(slug=tenant).first()
        if tenant_row is None:
            raise CommandError(f"No tenant with the slug {tenant!r}.")

        with transaction.atomic():
            bots = list(
                BotConfig.objects.select_for_update()
                .filter(tenant=tenant_row, name=bot_name)
                .order_by("pk")
            )
            if len(bots) > 1:
                raise CommandError(
                    f"Tenant {tenant!r} has {len(bots)} bots named {bot_name!r}; rename all but "
                    "one in the admin, or choose another --bot-name."
                )
            created = not bots
            bot = bots[0] if bots else BotConfig(tenant=tenant_row, name=bot_name)
            target = self._find_inbox(tenant_row, inbox) if inbox else None
            changed = self._apply(bot, config)
            if created or changed:
                try:
                    bot.full_clean()
                except ValidationError as exc:
                    problems = "; ".join(
                        f"{field}: {' '.join(messages)}"
                        for field, messages in exc.message_dict.items()
                    )
                    raise CommandError(f"The bot would not be valid: {problems}") from None
                bot.save()
            attached = target is not None and target.bot_id != bot.pk
            if attached:
                target.bot = bot
                target.save(update_fields=["bot"])

        self._report(bot, tenant_row, created=created, changed=changed, config=config)
        if attached:
            self.stdout.write(
                self.style.SUCCESS(f"Inbox {target.name!r} is now answered by {bot.name!r}.")
            )
        elif target is not None:
            self.stdout.write(f"Inbox {target.name!r} was already answered by {bot.name!r}.")

    @staticmethod
    def _find_inbox(tenant: Tenant, name: str) -> Inbox:
        inboxes = list(Inbox.objects.filter(tenant=tenant, name=name).order_by("pk"))
        if len(inboxes) == 1:
            return inboxes[0]
        if inboxes:
            raise CommandError(f"Tenant {tenant.slug!r} has {len(inboxes)} inboxes named {name!r}.")
        names = ", ".join(
            repr(n) for n in Inbox.objects.filter(tenant=tenant).values_list("name", flat=True)
        )
        raise CommandError(
            f"Tenant {tenant.slug!r} has no inbox named {name!r}"
            + (f" (it has {names})." if names else " (it has none).")
        )

    @staticmethod
    def _apply(bot: BotConfig, config: ChatGPTTable) -> list[str]:
        """Copy the file's values onto the bot; the names of the fields that changed."""
        changed = []

        def put(field: str, value) -> None:
            if getattr(bot, field) != value:
                setattr(bot, field, value)
                changed.append(field)

        put("provider", BotConfig.Provider.OPENAI)
        if config.enabled is not None:
            put("is_active", config.enabled)
        if config.endpoint is not None:
            put("base_url", config.endpoint)
        if config.context_window is not None:
            put("context_turns", config.context_window)
        if config.model is not None:
            put("model", config.model.strip())
        if config.api_key is not None and bot.api_key != config.api_key.strip():
            bot.api_key = config.api_key.strip()
            changed.append("api_key")
        return changed

    def _report(self, bot, tenant, *, created, changed, config) -> None:
        write = self.stdout.write
        where = f"bot {bot.name!r} of tenant {tenant.slug!r}"
        if created:
            write(self.style.SUCCESS(f"Created {where}."))
        elif changed:
            labels = ", ".join(_label(field) for field in changed)
            write(self.style.SUCCESS(f"Updated {where}: {labels}."))
        else:
            write(f"The {where} already matches the file; nothing changed.")
        write(f"  provider   {bot.get_provider_display()}")
        write(f"  endpoint   {bot.base_url or '(default: OPENAI_BASE_URL, else OpenAI)'}")
        write(f"  model      {bot.model}")
        write(f"  context    the last {bot.context_turns} rounds")
        write(f"  active     {'yes' if bot.is_active else 'no'}")
        write(f"  API key    {'set (stored encrypted)' if bot.api_key_encrypted else 'none'}")
        if config.api_key is not None and config.api_key.strip().lower() in PLACEHOLDER_KEYS:
            self.stderr.write(
                self.style.WARNING(
                    "The api_key is the example's placeholder: set the real key in the admin "
                    "or in the file, or the API will refuse the bot's requests."
                )
            )


def _label(field: str) -> str:
    if field == "api_key":
        return "API key"
    return str(BotConfig._meta.get_field(field).verbose_name)
