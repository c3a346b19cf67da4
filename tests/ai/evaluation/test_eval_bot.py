"""``manage.py eval_bot`` on the demo's knowledge and question set: the FAQ bot without any
API, and a model bot through the real openai SDK against the fake model server."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from helpdesk.ai.demo_knowledge import DEMO_ARTICLES
from helpdesk.ai.knowledge.services import tenant_reindex
from helpdesk.ai.models import KnowledgeArticle
from tests.factories import BotConfigFactory, InboxFactory, ModelBotFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(tenant):
    KnowledgeArticle.objects.bulk_create(
        KnowledgeArticle(tenant=tenant, **article) for article in DEMO_ARTICLES
    )
    tenant_reindex(tenant=tenant)
    InboxFactory(tenant=tenant, bot=BotConfigFactory(tenant=tenant, provider="faq"))
    return tenant


def run(*args) -> str:
    out = StringIO()
    call_command("eval_bot", *args, stdout=out)
    return out.getvalue()


def figures(output: str) -> dict[str, list[str]]:
    """The table's rows by label: the label is the first 28 characters, the cells after."""
    return {line[:28].strip(): line[28:].split() for line in output.splitlines()[2:]}


def percent(cell: str) -> float:
    return float(cell.rstrip("%")) / 100


def test_the_faq_bot_is_measured_overall_and_per_language(shop, tmp_path):
    outcomes = tmp_path / "outcomes.jsonl"

    output = run("--tenant", shop.slug, "--json", str(outcomes))

    rows = figures(output)
    assert output.splitlines()[1].split() == ["all", "en", "zh"]
    assert rows["questions"] == ["45", "23", "22"]
    assert percent(rows["retrieval hit@3"][0]) >= 0.8
    assert percent(rows["retrieval hit@1"][0]) <= percent(rows["retrieval hit@3"][0])
    # The FAQ bot answers with an article and cites it, or hands off.
    assert percent(rows["citation correct"][0]) >= 0.8
    assert rows["off-topic handed off"][1] == "100%"  # en: the weather, football
    assert rows["errors"] == ["0", "0", "0"]
    lines = [json.loads(line) for line in outcomes.read_text().splitlines()]
    assert len(lines) == 45
    weather = next(line for line in lines if "Paris" in line["question"])
    assert weather["handed_off"] is True
    assert weather["cited"] == []


def test_retrieval_only_never_asks_the_bot(shop):
    output = run("--tenant", shop.slug, "--retrieval-only")

    assert "(retrieval only)" in output
    assert "citation correct" not in output
    assert "retrieval hit@1" in output


def test_a_model_bot_is_asked_through_its_endpoint_and_its_citations_scored(
    shop, fake_llm, tmp_path
):
    bot = ModelBotFactory(tenant=shop, base_url=fake_llm.base_url, model="m", streaming=True)
    fake_llm.script(reply="You can find it in our help [1].")
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"question": "Can I pay with Alipay?", "expected_source": "payment"})
        + "\n"
        + json.dumps({"question": "Who won the match?", "expected_source": None})
        + "\n",
        encoding="utf-8",
    )

    output = run("--tenant", shop.slug, "--bot", str(bot.pk), "--file", str(questions))

    rows = figures(output)
    assert rows["citation correct"] == ["100%"]  # [1] is the payment article, found first
    assert rows["off-topic handed off"] == ["0%"]  # this bot may answer from its own knowledge
    assert len(fake_llm.chat_requests) == 2
    prompt = fake_llm.chat_requests[0].body["messages"][0]["content"]
    assert "Alipay" in prompt
    assert "<knowledge>" in prompt


def test_an_answer_only_bot_hands_off_off_topic_questions_without_asking(shop, fake_llm, tmp_path):
    bot = ModelBotFactory(
        tenant=shop, base_url=fake_llm.base_url, model="m", answer_only_from_knowledge=True
    )
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"question": "帮我写一首关于月亮的诗", "expected_source": None}) + "\n",
        encoding="utf-8",
    )

    rows = figures(run("--tenant", shop.slug, "--bot", str(bot.pk), "--file", str(questions)))

    assert rows["off-topic handed off"] == ["100%"]
    assert fake_llm.chat_requests == []


def test_unknown_tenant_bot_or_bad_file_is_a_clear_error(shop, tmp_path):
    with pytest.raises(CommandError, match="No tenant with the slug nope"):
        run("--tenant", "nope")
    with pytest.raises(CommandError, match="has no bot 999999"):
        run("--tenant", shop.slug, "--bot", "999999")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="Line 1: .*expected_source"):
        run("--tenant", shop.slug, "--file", str(bad))
