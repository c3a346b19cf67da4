"""``manage.py import_ai_toml``: the seed's ai_plugins.toml as a tenant's bot."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from helpdesk.ai.models import BotConfig
from tests.factories import InboxFactory

pytestmark = pytest.mark.django_db

KEY = "sk-proj-Zx81abcdefTESTKEY0123456789"

# The seed's snippet as GoFly's docs lay it out, with straight quotes.
SEED_TOML = f"""\
[chatgpt]
enabled = true
api_key = "{KEY}"
endpoint = "https://api.openai.com/v1/chat/completions"
context_window = 5  # 保留最近5轮对话
"""
# The seed's exact text: a flattened code block, typeset with curly quotes.
SEED_EXACT = (
    "toml [chatgpt] enabled = true api_key = “your-openai-key” endpoint = "
    "“https://api.openai.com/v1/chat/completions” context_window = 5 # 保留最近5轮对话\n"
)


def write(tmp_path: Path, text: str, name: str = "ai_plugins.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_ai_toml", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_seed_file_becomes_an_openai_bot(tmp_path, tenant):
    out, err = run(write(tmp_path, SEED_TOML), "--tenant", tenant.slug)

    bot = BotConfig.objects.get(tenant=tenant)
    assert bot.name == "ChatGPT"
    assert bot.provider == BotConfig.Provider.OPENAI
    assert bot.base_url == "https://api.openai.com/v1"  # the SDK adds /chat/completions
    assert bot.context_turns == 5
    assert bot.is_active is True
    assert bot.api_key == KEY
    assert KEY not in bot.api_key_encrypted
    assert f"Created bot 'ChatGPT' of tenant '{tenant.slug}'." in out
    assert "https://api.openai.com/v1" in out
    assert "set (stored encrypted)" in out
    assert KEY not in out + err
    assert err == ""


def test_a_second_run_changes_nothing_and_an_edited_file_updates_the_bot(tmp_path, tenant):
    path = write(tmp_path, SEED_TOML)
    run(path, "--tenant", tenant.slug)
    bot = BotConfig.objects.get()
    before = (bot.api_key_encrypted, bot.updated_at)

    out, _ = run(path, "--tenant", tenant.slug)

    bot.refresh_from_db()
    assert (bot.api_key_encrypted, bot.updated_at) == before
    assert "already matches the file; nothing changed" in out

    new_key = "sk-another-key-987654321"
    write(
        tmp_path,
        SEED_TOML.replace("enabled = true", "enabled = false")
        .replace(KEY, new_key)
        .replace("context_window = 5", "context_window = 8"),
    )
    out, _ = run(path, "--tenant", tenant.slug)

    bot.refresh_from_db()
    assert BotConfig.objects.count() == 1
    assert (bot.is_active, bot.context_turns, bot.api_key) == (False, 8, new_key)
    assert "Updated bot 'ChatGPT'" in out
    assert "API key" in out
    assert new_key not in out


def test_updates_only_the_named_bot_of_that_tenant(tmp_path, tenant, other_tenant):
    theirs = BotConfig.objects.create(tenant=other_tenant, name="ChatGPT", context_turns=9)
    faq = BotConfig.objects.create(tenant=tenant, name="FAQ bot", provider="faq")

    run(write(tmp_path, SEED_TOML), "--tenant", tenant.slug, "--bot-name", "Support GPT")

    theirs.refresh_from_db()
    faq.refresh_from_db()
    assert (theirs.context_turns, theirs.api_key) == (9, "")
    assert faq.provider == "faq"
    assert BotConfig.objects.filter(tenant=tenant, name="Support GPT").exists()


def test_missing_keys_keep_the_bots_values_and_model_is_optional(tmp_path, tenant):
    bot = BotConfig.objects.create(
        tenant=tenant, name="ChatGPT", provider="faq", context_turns=7, model="gpt-4o"
    )
    bot.api_key = KEY
    bot.save()

    run(write(tmp_path, '[chatgpt]\nmodel = "llama3.1"\n'), "--tenant", tenant.slug)

    bot.refresh_from_db()
    assert (bot.provider, bot.context_turns, bot.model, bot.api_key) == (
        "openai",
        7,
        "llama3.1",
        KEY,
    )


def test_a_self_hosted_endpoint_without_a_key(tmp_path, tenant):
    toml = '[chatgpt]\nendpoint = "http://localhost:11434/v1/"\napi_key = ""\n'

    run(write(tmp_path, toml), "--tenant", tenant.slug)

    bot = BotConfig.objects.get()
    assert (bot.base_url, bot.api_key_encrypted) == ("http://localhost:11434/v1", "")


def test_other_plugin_tables_are_ignored(tmp_path, tenant):
    toml = SEED_TOML + '\n[wenxin]\nenabled = false\napi_key = "x"\n'
    run(write(tmp_path, toml), "--tenant", tenant.slug)
    assert BotConfig.objects.get().base_url == "https://api.openai.com/v1"


def test_attaches_the_bot_to_an_inbox(tmp_path, tenant, other_tenant):
    inbox = InboxFactory(tenant=tenant, name="Website")
    InboxFactory(tenant=other_tenant, name="Website")

    out, _ = run(write(tmp_path, SEED_TOML), "--tenant", tenant.slug, "--inbox", "Website")

    inbox.refresh_from_db()
    assert inbox.bot == BotConfig.objects.get(tenant=tenant)
    assert "Inbox 'Website' is now answered by 'ChatGPT'." in out
    out, _ = run(write(tmp_path, SEED_TOML), "--tenant", tenant.slug, "--inbox", "Website")
    assert "Inbox 'Website' was already answered by 'ChatGPT'." in out


def test_an_unknown_inbox_changes_nothing(tmp_path, tenant):
    InboxFactory(tenant=tenant, name="Website")
    with pytest.raises(CommandError, match=r"no inbox named 'Shop' \(it has 'Website'\)"):
        run(write(tmp_path, SEED_TOML), "--tenant", tenant.slug, "--inbox", "Shop")
    assert not BotConfig.objects.exists()


def test_the_placeholder_key_is_imported_with_a_warning(tmp_path, tenant):
    toml = SEED_TOML.replace(KEY, "your-openai-key")
    _, err = run(write(tmp_path, toml), "--tenant", tenant.slug)
    assert "placeholder" in err
    assert "your-openai-key" not in err


def test_the_seeds_exact_text_with_curly_quotes_is_refused_clearly(tmp_path, tenant):
    with pytest.raises(CommandError) as caught:
        run(write(tmp_path, SEED_EXACT), "--tenant", tenant.slug)

    message = str(caught.value)
    assert "is not valid TOML" in message
    assert "curly quotes (“ ”)" in message
    assert "straight quotes" in message
    assert not BotConfig.objects.exists()


def test_curly_quotes_in_a_well_formed_file_are_named(tmp_path, tenant):
    toml = SEED_TOML.replace(f'"{KEY}"', "“your-openai-key”")
    with pytest.raises(CommandError, match="curly quotes"):
        run(write(tmp_path, toml), "--tenant", tenant.slug)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[chatgpt\nenabled = true\n", "is not valid TOML"),
        ("enabled = true\n", r"has no \[chatgpt\] table\.$"),
        ("[openai]\nenabled = true\n", r"has no \[chatgpt\] table \(it has \[openai\]\)"),
        ("chatgpt = 5\n", "must be a table"),
        ('[chatgpt]\nenabled = "yes"\n', r"enabled must be true or false, got a string \('yes'\)"),
        ("[chatgpt]\ncontext_window = 5.5\n", "context_window must be a whole number"),
        ("[chatgpt]\ncontext_window = true\n", "context_window must be a whole number"),
        ('[chatgpt]\ncontext_window = "5"\n', "context_window must be a whole number"),
        ("[chatgpt]\nendpoint = 42\n", "endpoint must be a string in quotes"),
        ("[chatgpt]\ncontext_window = 51\n", "context_window must be between 0 and 50"),
        ("[chatgpt]\ncontext_window = -1\n", "context_window must be between 0 and 50"),
        ('[chatgpt]\nendpoint = "ftp://example.com/v1"\n', "must start with http:// or https://"),
        ('[chatgpt]\nendpoint = "api.openai.com/v1"\n', "must start with http:// or https://"),
        ('[chatgpt]\nendpoint = "https://u:p@api.example.com/v1"\n', "API key field"),
        ("[chatgpt]\ncontext_windows = 5\n", r"Unknown key\(s\) in \[chatgpt\].*context_windows"),
        ('[chatgpt]\nmodel = " "\n', "model must not be empty"),
    ],
)
def test_bad_files_are_refused_with_the_problem_named(tmp_path, tenant, text, error):
    with pytest.raises(CommandError, match=error):
        run(write(tmp_path, text), "--tenant", tenant.slug)
    assert not BotConfig.objects.exists()


def test_a_wrongly_typed_key_is_not_echoed(tmp_path, tenant):
    with pytest.raises(CommandError) as caught:
        run(write(tmp_path, "[chatgpt]\napi_key = 12345678901\n"), "--tenant", tenant.slug)
    assert "api_key must be a string in quotes, got an integer." in str(caught.value)
    assert "12345678901" not in str(caught.value)


def test_a_missing_file_a_directory_and_binary_junk(tmp_path, tenant):
    with pytest.raises(CommandError, match="No such file: .*nope.toml"):
        run(tmp_path / "nope.toml", "--tenant", tenant.slug)
    with pytest.raises(CommandError, match="is a directory"):
        run(tmp_path, "--tenant", tenant.slug)
    junk = tmp_path / "junk.toml"
    junk.write_bytes(b"\xff\xfe[chatgpt]")
    with pytest.raises(CommandError, match="not UTF-8"):
        run(junk, "--tenant", tenant.slug)


def test_a_byte_order_mark_is_accepted(tmp_path, tenant):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SEED_TOML.encode())
    run(path, "--tenant", tenant.slug)
    assert BotConfig.objects.get().context_turns == 5


def test_an_unknown_tenant(tmp_path, tenant):
    with pytest.raises(CommandError, match="No tenant with the slug 'nobody'"):
        run(write(tmp_path, SEED_TOML), "--tenant", "nobody")
    assert not BotConfig.objects.exists()


def test_two_bots_of_that_name_is_ambiguous(tmp_path, tenant):
    BotConfig.objects.create(tenant=tenant, name="ChatGPT")
    BotConfig.objects.create(tenant=tenant, name="ChatGPT")
    with pytest.raises(CommandError, match="has 2 bots named 'ChatGPT'"):
        run(write(tmp_path, SEED_TOML), "--tenant", tenant.slug)
