"""The FAQ provider: it answers from the knowledge the reply was grounded in (the same retrieval
a model's prompt gets) — an article's whole answer, or a file's passage — in English and
Chinese, and asks for a human when nothing relevant was found."""

import pytest

from helpdesk.ai.grounding import Grounding, aground
from helpdesk.ai.knowledge.chunking import split_text
from helpdesk.ai.knowledge.models import KnowledgeSource
from helpdesk.ai.knowledge.services import articles_index, source_chunks_replace
from helpdesk.ai.models import KnowledgeArticle
from helpdesk.ai.pipeline import bot_reply
from helpdesk.ai.providers.base import (
    ChatMessage,
    HandoffRequested,
    ReplyRequest,
    TextDelta,
    Usage,
)
from helpdesk.ai.providers.faq import FAQProvider, chunk_text
from helpdesk.ai.providers.registry import provider_for
from helpdesk.ai.tokens import count_tokens
from helpdesk.conversations.handoff_reasons import NO_KNOWLEDGE
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender, message_post
from helpdesk.core.asyncdb import db_call as db
from tests.ai.knowledge.bilingual_set import DOCUMENTS, QUESTIONS
from tests.ai.test_grounding import OFF_TOPIC
from tests.factories import BotConfigFactory, ConversationFactory, InboxFactory

pytestmark = pytest.mark.django_db(transaction=True)


def add_articles(tenant, articles) -> list[KnowledgeArticle]:
    rows = [KnowledgeArticle.objects.create(tenant=tenant, **article) for article in articles]
    articles_index(tenant=tenant, article_ids=[row.pk for row in rows])
    return rows


@pytest.fixture
def faq_bot(tenant):
    """An FAQ bot whose articles are the bilingual set's documents, titled by topic."""
    add_articles(tenant, [{"question": name, "answer": text} for name, text in DOCUMENTS.items()])
    return BotConfigFactory(tenant=tenant, provider="faq")


def request(*messages: tuple[str, str], stream: bool = True, knowledge=None) -> ReplyRequest:
    return ReplyRequest(
        messages=[ChatMessage(role, content) for role, content in messages],
        max_tokens=500,
        temperature=0.3,
        stream=stream,
        knowledge=knowledge,
    )


def provider(tenant, **options) -> FAQProvider:
    return FAQProvider(tenant_id=tenant.pk, **{"chunk_delay": 0, **options})


async def collect(faq: FAQProvider, reply_request: ReplyRequest) -> list:
    return [event async for event in faq.stream(reply_request)]


async def ask(tenant, bot, question: str, **options) -> list:
    grounding = await aground(tenant=tenant, bot=bot, question=question)
    return await collect(
        provider(tenant, **options), request(("user", question), knowledge=grounding)
    )


async def answer(tenant, bot, question: str) -> str | None:
    events = await ask(tenant, bot, question)
    if events == [HandoffRequested(reason=NO_KNOWLEDGE)]:
        return None
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def topics_of(tenant, bot, questions) -> dict[str, str | None]:
    """The bilingual set's document each question is answered with (None: handed off)."""
    topic_of_answer = {text: name for name, text in DOCUMENTS.items()}
    return {q: topic_of_answer.get(await answer(tenant, bot, q)) for q in questions}


# --- Answered in both languages, off-topic handed off -------------------------------------------


async def test_the_bilingual_questions_get_their_documents_answer(tenant, faq_bot):
    expected = dict(QUESTIONS)

    answered = await topics_of(tenant, faq_bot, expected)

    right = [q for q, topic in answered.items() if topic == expected[q]]
    # 30 of 32, as the shared retrieval ranks them (tests/ai/knowledge/test_lexical.py names
    # the misses).
    assert len(right) >= 30


async def test_full_width_and_mixed_language_questions_are_answered(tenant, faq_bot):
    expected = {
        "ＰａｙＰａｌ？": "payment",  # full-width, as Chinese keyboards type it
        "PayPal 可以吗": "payment",
        "gift card 会过期吗": "giftcard",
        "怎么申请 VAT 发票": "zh_invoice",
    }

    assert await topics_of(tenant, faq_bot, expected) == expected


async def test_off_topic_questions_are_handed_to_a_human(tenant, faq_bot):
    assert await topics_of(tenant, faq_bot, OFF_TOPIC) == dict.fromkeys(OFF_TOPIC)


@pytest.mark.parametrize("question", ["Can it be a gift?", "可以礼品包装吗"])
async def test_an_articles_keywords_find_it(tenant, other_tenant, question):
    wrapping = {"question": "Wrapping service", "answer": "We wrap any order for 3 euros."}
    await db(add_articles)(tenant, [{**wrapping, "keywords": "present, gift, 礼品包装"}])
    await db(add_articles)(other_tenant, [wrapping])
    ours = await db(BotConfigFactory)(tenant=tenant, provider="faq")
    theirs = await db(BotConfigFactory)(tenant=other_tenant, provider="faq")

    assert await answer(tenant, ours, question) == "We wrap any order for 3 euros."
    assert await answer(other_tenant, theirs, question) is None  # the same article, no keywords


SMALL_TALK = {
    "question": "Hello! / 你好",
    "answer": "Hi! How can I help?",
    "keywords": "hi, hello, hey, 你好, 在吗",
}
THANKS = {"question": "Thank you! / 谢谢", "answer": "You're welcome!", "keywords": "thanks, ok"}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("hi", "Hi! How can I help?"),
        ("Hello!!", "Hi! How can I help?"),
        ("你好", "Hi! How can I help?"),
        ("在吗？", "Hi! How can I help?"),
        ("thanks", "You're welcome!"),
        ("谢谢！", "You're welcome!"),
        ("ok thank you", "You're welcome!"),
    ],
)
async def test_small_talk_is_answered_by_a_greeting_or_thank_you_article(
    tenant, faq_bot, question, expected
):
    await db(add_articles)(tenant, [SMALL_TALK, THANKS])

    assert await answer(tenant, faq_bot, question) == expected


async def test_small_talk_goes_to_a_human_without_such_an_article(tenant, faq_bot):
    assert await answer(tenant, faq_bot, "hi") is None
    assert await answer(tenant, faq_bot, "谢谢") is None


async def test_a_greeting_with_a_question_is_answered_for_the_question(tenant, faq_bot):
    await db(add_articles)(tenant, [SMALL_TALK])

    assert await answer(tenant, faq_bot, "Hi! Do you take PayPal?") == DOCUMENTS["payment"]


# --- What it answers with -------------------------------------------------------------------------


async def test_an_article_is_answered_whole_even_when_a_later_passage_matched(tenant):
    rules = [f"## Rule {i}\n" + "Parcels are weighed and labelled. " * 40 for i in range(4)]
    rules.append("## Hamburg\nParcels to Hamburg are collected on Fridays.")
    long_answer = "\n\n".join(rules)
    await db(add_articles)(tenant, [{"question": "Parcel handling", "answer": long_answer}])
    bot = await db(BotConfigFactory)(tenant=tenant, provider="faq")

    grounding = await aground(tenant=tenant, bot=bot, question="Hamburg collection day")

    assert grounding.hits[0].heading == "Hamburg"
    assert await answer(tenant, bot, "Hamburg collection day") == long_answer


async def test_a_file_is_answered_with_the_passage_that_matched(tenant):
    def setup():
        source = KnowledgeSource.objects.create(
            tenant=tenant, kind=KnowledgeSource.Kind.FILE, title="Handbook.pdf"
        )
        text = "# Returns\nReturns within 30 days.\n\n# Hamburg\nHamburg parcels go on Fridays."
        source_chunks_replace(tenant=tenant, source=source, drafts=split_text(text))
        return BotConfigFactory(tenant=tenant, provider="faq")

    bot = await db(setup)()

    assert await answer(tenant, bot, "When do Hamburg parcels go?") == (
        "Hamburg parcels go on Fridays."
    )


async def test_no_knowledge_or_nothing_relevant_asks_for_a_human(tenant, faq_bot):
    grounding = await aground(tenant=tenant, bot=faq_bot, question="怎么退货")
    nothing = Grounding(hits=[], relevant=False)
    handoff = [HandoffRequested(reason=NO_KNOWLEDGE)]

    assert await collect(provider(tenant), request(("user", "怎么退货"))) == handoff
    assert await collect(provider(tenant), request(("user", "怎么退货"), knowledge=nothing)) == (
        handoff
    )
    # Found, then deleted before the answer was read: nothing to say.
    await db(KnowledgeSource.objects.filter(tenant=tenant).delete)()
    assert await collect(provider(tenant), request(("user", "怎么退货"), knowledge=grounding)) == (
        handoff
    )


async def test_a_grounding_of_another_tenant_never_makes_it_answer(tenant, other_tenant, faq_bot):
    grounding = await aground(tenant=tenant, bot=faq_bot, question="怎么退货")

    theirs = FAQProvider(tenant_id=other_tenant.pk, chunk_delay=0)
    events = await collect(theirs, request(("user", "怎么退货"), knowledge=grounding))

    assert events == [HandoffRequested(reason=NO_KNOWLEDGE)]


# --- The stream -----------------------------------------------------------------------------------


async def test_an_answer_streams_in_chunks_then_usage(tenant, faq_bot):
    events = await ask(tenant, faq_bot, "怎么退货")

    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert "".join(d.text for d in deltas) == DOCUMENTS["zh_returns"]
    assert len(deltas) > 5
    assert all(len(d.text) <= 40 for d in deltas)
    assert events[-1] == Usage(
        prompt_tokens=count_tokens("怎么退货"),
        completion_tokens=count_tokens(DOCUMENTS["zh_returns"]),
        counted=True,
    )


async def test_without_streaming_the_answer_comes_in_one_delta(tenant, faq_bot):
    grounding = await aground(tenant=tenant, bot=faq_bot, question="Do you take PayPal?")
    events = await collect(
        provider(tenant),
        request(("user", "Do you take PayPal?"), stream=False, knowledge=grounding),
    )

    assert events[0] == TextDelta(DOCUMENTS["payment"])
    assert isinstance(events[1], Usage)
    assert len(events) == 2


async def test_usage_counts_the_trailing_user_messages_as_the_question(tenant, faq_bot):
    grounding = await aground(tenant=tenant, bot=faq_bot, question="can I pay with PayPal?")
    events = await collect(
        provider(tenant),
        request(
            ("system", "You are a shop assistant."),
            ("user", "how long to Berlin?"),
            ("assistant", "One to two days."),
            ("user", "thanks."),
            ("user", "can I pay with PayPal?"),
            knowledge=grounding,
        ),
    )

    assert events[-1].prompt_tokens == count_tokens("thanks.\ncan I pay with PayPal?")


async def test_chunks_are_paced_when_a_delay_is_set(tenant, faq_bot, monkeypatch):
    sleeps = []

    async def fake_sleep(seconds):
        sleeps.append(seconds)

    monkeypatch.setattr("helpdesk.ai.providers.faq.asyncio.sleep", fake_sleep)

    events = await ask(tenant, faq_bot, "怎么退货", chunk_delay=0.02)

    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert sleeps == [0.02] * (len(deltas) - 1)


@pytest.mark.parametrize(
    "text",
    [
        "Orders placed before 3 pm ship the same day.",
        "工作日下午 3 点前下单当天发货。中国大陆标准配送 3–5 个工作日送达。",
        "  leading and trailing spaces  \n\nand paragraphs ",
        "",
    ],
)
def test_chunks_join_back_into_the_text(text):
    chunks = list(chunk_text(text))
    assert "".join(chunks) == text
    assert all(chunks)


def test_the_registry_gives_faq_bots_their_tenants_faq_provider(tenant):
    faq = provider_for(BotConfigFactory(tenant=tenant, provider="faq"))

    assert isinstance(faq, FAQProvider)
    assert (faq.name, faq.model, faq.tenant_id) == ("faq", "faq", tenant.pk)
    assert faq.capabilities.tools is False
    assert faq.capabilities.usage_in_stream is False


# --- In a conversation ----------------------------------------------------------------------------


async def customer_asks(bot, text) -> Message:
    def post():
        inbox = InboxFactory(tenant=bot.tenant, bot=bot)
        conversation = ConversationFactory(tenant=bot.tenant, inbox=inbox)
        return message_post(
            tenant=bot.tenant, conversation_id=conversation.pk, sender=Sender.contact(), text=text
        ).message

    return await db(post)()


async def test_the_faq_bot_answers_a_conversation_and_cites_the_article(tenant, faq_bot):
    trigger = await customer_asks(faq_bot, "怎么退货")

    outcome = await bot_reply(trigger)

    assert outcome.status == "answered"
    reply = await db(Message.objects.get)(
        conversation_id=trigger.conversation_id, sender_type="bot"
    )
    assert reply.text == DOCUMENTS["zh_returns"]
    [citation] = reply.metadata["citations"]
    assert (citation["n"], citation["url"]) == (1, "")
    assert citation["title"] == "zh_returns"


async def test_the_faq_bot_hands_off_what_the_knowledge_does_not_cover(tenant, faq_bot):
    trigger = await customer_asks(faq_bot, "火星上的天气怎么样")

    outcome = await bot_reply(trigger)

    assert (outcome.status, outcome.detail) == ("handoff", NO_KNOWLEDGE)
    conversation = await db(Conversation.objects.get)(pk=trigger.conversation_id)
    assert (conversation.status, conversation.handoff_reason) == ("queued", NO_KNOWLEDGE)
    bot_said = Message.objects.filter(conversation=conversation, sender_type="bot")
    assert not await db(bot_said.exists)()
