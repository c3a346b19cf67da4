"""The FAQ provider: relevance in English and Chinese, the stream it yields, per-tenant indexes."""

from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync

from helpdesk.ai.management.commands.demo import DEMO_ARTICLES
from helpdesk.ai.models import BotConfig, KnowledgeArticle
from helpdesk.ai.providers.base import (
    ChatMessage,
    HandoffRequested,
    ReplyRequest,
    TextDelta,
    Usage,
)
from helpdesk.ai.providers.faq import (
    NO_ANSWER_REASON,
    FAQIndex,
    FAQProvider,
    chunk_text,
    faq_provider_for,
    index_cache,
    query_terms,
)
from helpdesk.ai.tokens import count_tokens

ARTICLES = [SimpleNamespace(**article) for article in DEMO_ARTICLES]
TOPICS = [
    "greeting",
    "shipping",
    "returns",
    "hours",
    "payment",
    "tracking",
    "warranty",
    "contact",
    "thanks",
]
assert len(TOPICS) == len(ARTICLES)


def provider(articles=ARTICLES, **options) -> FAQProvider:
    return FAQProvider(articles=articles, chunk_delay=0, **options)


def topic_of(question: str) -> str | None:
    match = provider().match(question)
    return None if match is None else TOPICS[ARTICLES.index(match.article)]


def request(*messages: tuple[str, str], stream: bool = True) -> ReplyRequest:
    return ReplyRequest(
        messages=[ChatMessage(role, content) for role, content in messages],
        max_tokens=500,
        temperature=0.3,
        stream=stream,
    )


async def collect(faq: FAQProvider, reply_request: ReplyRequest) -> list:
    return [event async for event in faq.stream(reply_request)]


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("How do I return my order?", "returns"),
        ("I want a refund", "returns"),
        ("can I send it back, it's the wrong size", "returns"),
        ("when do you open", "hours"),
        ("Are you open on Sunday?", "hours"),
        ("what time do you close today", "hours"),
        ("how long does delivery take", "shipping"),
        ("is shipping free", "shipping"),
        ("do you ship to Germany?", "shipping"),
        ("where is my order", "tracking"),
        ("where is my order 1234567", "tracking"),
        ("my package hasn't arrived yet", "tracking"),
        ("do you accept credit cards", "payment"),
        ("can I pay with alipay", "payment"),
        ("my headphones are broken", "warranty"),
        ("is there a warranty", "warranty"),
        ("what's your phone number", "contact"),
        ("hi", "greeting"),
        ("what can you do", "greeting"),
        ("thanks", "thanks"),
    ],
)
def test_english_questions_and_paraphrases_find_their_article(question, topic):
    assert topic_of(question) == topic


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("怎么退货", "returns"),
        ("我想退款", "returns"),
        ("可以退钱吗", "returns"),
        ("这个不想要了", "returns"),
        ("你们几点开门", "hours"),
        ("周末上班吗", "hours"),
        ("运费多少", "shipping"),
        ("多久能发货", "shipping"),
        ("我的快递到哪了", "tracking"),
        ("订单还没到", "tracking"),
        ("支持微信支付吗", "payment"),
        ("可以开发票吗", "payment"),
        ("耳机坏了怎么办", "warranty"),
        ("保修多久", "warranty"),
        ("怎么联系你们", "contact"),
        ("你好", "greeting"),
        ("在吗", "greeting"),
        ("谢谢", "thanks"),
        # Full-width letters and digits, as Chinese keyboards type them.
        ("ＲＥＴＵＲＮ", "returns"),
    ],
)
def test_chinese_questions_find_their_article(question, topic):
    assert topic_of(question) == topic


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("怎么 return", "returns"),
        ("请问 shipping 要多久", "shipping"),
        ("Alipay 可以吗", "payment"),
        ("my order 到哪了", "tracking"),
    ],
)
def test_mixed_language_questions_find_their_article(question, topic):
    assert topic_of(question) == topic


@pytest.mark.parametrize(
    "question",
    [
        "what's the weather on Mars",
        "What is the meaning of life?",
        "tell me a joke",
        "who won the football game yesterday",
        "Is the iPhone 15 case compatible with the Pixel?",
        "asdfgh qwerty",
        "火星上的天气怎么样",
        "明天会下雨吗",
        "你们有红色的连衣裙吗",
        "推荐一本好书",
        "12345",
        "?!",
    ],
)
def test_unrelated_questions_match_nothing(question):
    assert topic_of(question) is None


def test_scores_lie_between_zero_and_one_and_are_deterministic():
    questions = ["怎么退货", "when do you open", "where is my order", "保修多久", "tell me a joke"]

    first = [[(m.position, m.score) for m in FAQIndex(ARTICLES).search(q)] for q in questions]
    again = [[(m.position, m.score) for m in FAQIndex(ARTICLES).search(q)] for q in questions]

    assert first == again
    scores = [score for ranking in first for _, score in ranking]
    assert scores
    assert all(0 < score <= 1 for score in scores)
    for ranking in first:
        assert [score for _, score in ranking] == sorted((s for _, s in ranking), reverse=True)


def test_an_exact_question_scores_at_the_top_and_ties_keep_article_order():
    index = FAQIndex(ARTICLES)
    top = index.search(ARTICLES[3].question)[0]
    assert top.position == 3
    assert top.score > 0.9

    twins = [
        SimpleNamespace(question="Gift wrapping", answer="First.", keywords=""),
        SimpleNamespace(question="Gift wrapping", answer="Second.", keywords=""),
    ]
    matches = FAQIndex(twins).search("gift wrapping")
    assert [m.position for m in matches] == [0, 1]
    assert matches[0].score == matches[1].score


def test_min_score_is_the_threshold():
    question = "Can I return shoes that I wore once?"
    score = FAQIndex(ARTICLES).search(question)[0].score
    assert 0.3 < score < 0.6  # one known word among unknown ones: a partial match

    assert provider(min_score=score).match(question) is not None
    assert provider(min_score=score + 0.01).match(question) is None


def test_stop_words_and_stems():
    words = [term.text for term in query_terms("What are the opening hours for shipping orders?")]
    assert words == ["open", "hour", "ship", "order"]
    chinese = [term.text for term in query_terms("怎么退货")]
    # 怎 and 么 are function characters; "么退" straddles two words.
    assert chinese == ["退", "退货", "货"]
    # Only stop words: matched with them, so a greeting can be answered.
    assert [term.text for term in query_terms("hi")] == ["hi"]


async def test_a_match_streams_the_answer_in_chunks_then_usage():
    events = await collect(provider(), request(("user", "怎么退货")))

    deltas = [e for e in events if isinstance(e, TextDelta)]
    answer = DEMO_ARTICLES[2]["answer"]
    assert "".join(d.text for d in deltas) == answer
    assert len(deltas) > 10
    assert all(len(d.text) <= 40 for d in deltas)
    assert events[-1] == Usage(
        prompt_tokens=count_tokens("怎么退货"), completion_tokens=count_tokens(answer), counted=True
    )
    assert not any(isinstance(e, HandoffRequested) for e in events)


async def test_without_streaming_the_answer_comes_in_one_delta():
    events = await collect(provider(), request(("user", "when do you open"), stream=False))

    assert events[0] == TextDelta(DEMO_ARTICLES[3]["answer"])
    assert isinstance(events[1], Usage)
    assert len(events) == 2


async def test_the_trailing_user_messages_are_the_question():
    events = await collect(
        provider(),
        request(
            ("system", "You are a shop assistant. Facts: returns, refunds, 退货."),
            ("user", "how do I pay?"),
            ("assistant", "We accept Visa and Alipay."),
            ("user", "thanks."),
            ("user", "and when do you open on Sunday?"),
        ),
    )

    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == DEMO_ARTICLES[3]["answer"]
    question = "thanks.\nand when do you open on Sunday?"
    assert events[-1].prompt_tokens == count_tokens(question)


async def test_no_good_match_asks_for_a_human():
    events = await collect(provider(), request(("user", "what's the weather on Mars")))
    assert events == [HandoffRequested(reason=NO_ANSWER_REASON)]


async def test_an_empty_knowledge_base_asks_for_a_human():
    events = await collect(provider(articles=[]), request(("user", "怎么退货")))
    assert events == [HandoffRequested(reason=NO_ANSWER_REASON)]


async def test_no_customer_message_to_answer_asks_for_a_human():
    events = await collect(
        provider(), request(("user", "怎么退货"), ("assistant", "Here is how to return…"))
    )
    assert events == [HandoffRequested(reason=NO_ANSWER_REASON)]


async def test_chunks_are_paced_when_a_delay_is_set(monkeypatch):
    sleeps = []

    async def fake_sleep(seconds):
        sleeps.append(seconds)

    monkeypatch.setattr("helpdesk.ai.providers.faq.asyncio.sleep", fake_sleep)
    faq = FAQProvider(articles=ARTICLES, chunk_delay=0.02)

    events = await collect(faq, request(("user", "thanks")))

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


def test_provider_declares_its_name_and_capabilities():
    faq = provider()
    assert faq.name == "faq"
    assert faq.capabilities.tools is False
    assert faq.capabilities.usage_in_stream is False


# --- faq_provider_for: the tenant's own active articles, cached ------------------------------


def bot_for(tenant) -> BotConfig:
    return BotConfig.objects.create(tenant=tenant, name="FAQ", provider=BotConfig.Provider.FAQ)


def article(tenant, question, answer, keywords="", **fields) -> KnowledgeArticle:
    return KnowledgeArticle.objects.create(
        tenant=tenant, question=question, answer=answer, keywords=keywords, **fields
    )


@pytest.fixture(autouse=True)
def _empty_index_cache():
    index_cache.clear()
    yield
    index_cache.clear()


async def answer(faq: FAQProvider, question: str) -> str | None:
    events = await collect(faq, request(("user", question)))
    if isinstance(events[0], HandoffRequested):
        return None
    return "".join(e.text for e in events if isinstance(e, TextDelta))


@pytest.mark.django_db
def test_faq_provider_for_uses_only_the_bots_tenant(tenant, other_tenant):
    article(tenant, "How do I return an item?", "Ours: 30 days.", "refund")
    article(other_tenant, "Opening hours", "Theirs: 9 to 5.", "open, hours, 营业时间")
    article(other_tenant, "How do I return an item?", "Theirs: never.", "refund, 退货")

    faq = faq_provider_for(bot_for(tenant), chunk_delay=0)

    assert async_to_sync(answer)(faq, "how do I return an item") == "Ours: 30 days."
    assert async_to_sync(answer)(faq, "when do you open") is None  # only the other tenant knows
    assert [a.answer for a in faq.index.articles] == ["Ours: 30 days."]


@pytest.mark.django_db
def test_faq_provider_for_skips_inactive_articles(tenant):
    article(tenant, "Opening hours", "9 to 5.", "open", is_active=False)
    article(tenant, "Returns", "30 days.", "return")

    faq = faq_provider_for(bot_for(tenant))

    assert [a.answer for a in faq.index.articles] == ["30 days."]


@pytest.mark.django_db
def test_the_index_is_cached_until_an_article_changes(tenant, django_assert_num_queries):
    bot = bot_for(tenant)
    returns = article(tenant, "Returns", "30 days.", "return")
    first = faq_provider_for(bot).index

    with django_assert_num_queries(1):  # the freshness check only
        assert faq_provider_for(bot).index is first

    returns.answer = "60 days."
    returns.save()
    edited = faq_provider_for(bot).index
    assert edited is not first
    assert [a.answer for a in edited.articles] == ["60 days."]

    hours = article(tenant, "Opening hours", "9 to 5.", "open")
    added = faq_provider_for(bot).index
    assert len(added) == 2

    hours.is_active = False
    hours.save()
    assert len(faq_provider_for(bot).index) == 1

    returns.delete()
    assert len(faq_provider_for(bot).index) == 0


@pytest.mark.django_db
def test_each_tenant_has_its_own_cached_index(tenant, other_tenant):
    article(tenant, "Returns", "Ours.", "return")
    article(other_tenant, "Returns", "Theirs.", "return")

    ours = faq_provider_for(bot_for(tenant)).index
    theirs = faq_provider_for(bot_for(other_tenant)).index

    assert [a.answer for a in ours.articles] == ["Ours."]
    assert [a.answer for a in theirs.articles] == ["Theirs."]
    assert faq_provider_for(bot_for(tenant)).index is ours
