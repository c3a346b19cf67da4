"""Retrieval over one large tenant, lexical and hybrid: index build time and memory, query
latency.

    .venv/bin/python deploy/loadtest/retrieval_bench.py [--chunks 10000] [--queries 200] \
        [--dimensions 384]

Runs in one process against a throw-away test database (SQLite, or PostgreSQL when
DATABASE_URL is set; the cache is Redis when REDIS_URL is set — give it a database of its own).
It stores ``--chunks`` generated bilingual chunks (English words and Chinese text drawn from
Zipf-distributed vocabularies, so common terms have long posting lists, as in real text) for
one tenant through the same service the app uses, builds the tenant's index cold, then times
``retrieve()`` end to end — version check in the cache, BM25 over the index, the hits read back
from the database — for ``--queries`` questions in English, Chinese and both. The target is
p99 <= 30 ms for 10,000 chunks.

Then every chunk gets a random ``--dimensions`` vector, the tenant an embeddings model, and the
same questions are timed again in hybrid mode: BM25 and the vector matrix searched, the two
rankings fused, the hits read back. The embedding call itself is left out (each question's
vector, near one chunk's, comes from a table here): it is the endpoint's latency, bounded by
embeddings.QUERY_TIMEOUT_SECONDS, and cached for a repeated question.
"""

import argparse
import gc
import json
import os
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("SECRET_KEY", "retrieval-bench-only")
os.environ.setdefault("STARTUP_CHECKS", "false")

import django  # noqa: E402
import numpy as np  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Avg, Count  # noqa: E402

from helpdesk.ai.knowledge import retrieval  # noqa: E402
from helpdesk.ai.knowledge.chunking import ChunkDraft  # noqa: E402
from helpdesk.ai.knowledge.lexical import tokenise  # noqa: E402
from helpdesk.ai.knowledge.models import (  # noqa: E402
    KnowledgeChunk,
    KnowledgeSettings,
    KnowledgeSource,
)
from helpdesk.ai.knowledge.retrieval import IndexCache, build_index, retrieve  # noqa: E402
from helpdesk.ai.knowledge.services import source_chunks_replace  # noqa: E402
from helpdesk.ai.knowledge.vectors import vector_bytes  # noqa: E402
from helpdesk.ai.tokens import count_tokens  # noqa: E402
from helpdesk.tenants.models import Tenant  # noqa: E402

# Common Chinese characters, enough for a realistic spread of character pairs.
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说"
    "产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点"
    "从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原"
    "又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革"
    "位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强"
    "放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交"
    "受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八"
    "离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布"
    "复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精"
    "值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照"
    "参红细引听该铁价严退货款运费发票积分密码保修关税优惠券客服配送签收仓库订单支付账户会员"
)
ENGLISH = [f"{a}{b}" for a in ("ship", "return", "order", "pay", "track", "size", "gift",
           "store", "bill", "card", "fee", "tax", "box", "item", "deliver", "refund", "cash",
           "mail", "pick", "stock", "price", "code", "zone", "time", "week", "part", "line",
           "plan", "fix", "care") for b in ("", "er", "age", "ment", "ly", "al", "ist", "ure",
           "ward", "ness", "ion", "ive", "ite", "ant", "ous")]  # fmt: skip


def zipf_choice(rng: random.Random, pool: list | str, count: int) -> list:
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    return rng.choices(pool, weights=weights, k=count)


def english_sentence(rng: random.Random, words: int) -> str:
    return " ".join(zipf_choice(rng, ENGLISH, words)).capitalize() + "."


def chinese_sentence(rng: random.Random, characters: int) -> str:
    return "".join(zipf_choice(rng, HANZI, characters)) + rng.choice("。！？")


def chunk_text(rng: random.Random) -> str:
    # About 250 tokens on average: some chunks English, some Chinese, many both.
    kind = rng.random()
    parts = []
    if kind < 0.7:
        parts += [english_sentence(rng, rng.randint(8, 16)) for _ in range(8)]
    if kind > 0.3:
        parts += [chinese_sentence(rng, rng.randint(12, 25)) for _ in range(6)]
    return " ".join(parts)


def query_text(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return english_sentence(rng, rng.randint(3, 10))
    if kind < 0.8:
        return chinese_sentence(rng, rng.randint(4, 15))
    return english_sentence(rng, rng.randint(2, 5)) + " " + chinese_sentence(rng, rng.randint(3, 8))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def index_bytes(index) -> int:
    arrays = index.bm25.docs.nbytes + index.bm25.offsets.nbytes + index.bm25.impacts.nbytes
    vocabulary = sys.getsizeof(index.bm25.vocabulary) + sum(
        sys.getsizeof(term) for term in index.bm25.vocabulary
    )
    return arrays + vocabulary + index.chunk_ids.nbytes


def timed_retrieve(tenant, texts: list[str], indexes: IndexCache) -> tuple[list[float], list[int]]:
    timings, hit_counts = [], []
    for text in texts:
        started = time.perf_counter()
        hits = retrieve(tenant=tenant, query=text, k=5, indexes=indexes)
        timings.append((time.perf_counter() - started) * 1000)
        hit_counts.append(len(hits))
    return timings, hit_counts


def store_random_vectors(tenant, dimensions: int, model: str, seed: int) -> np.ndarray:
    """A random unit vector for each chunk of ``tenant``, stored as the embedding job stores
    them; the vectors, in chunk order."""
    ids = list(
        KnowledgeChunk.objects.filter(tenant=tenant).order_by("pk").values_list("pk", flat=True)
    )
    vectors = np.random.default_rng(seed).standard_normal((len(ids), dimensions))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    for start in range(0, len(ids), 1000):
        KnowledgeChunk.objects.filter(tenant=tenant).bulk_update(
            [
                KnowledgeChunk(pk=pk, embedding=vector_bytes(vector), embedding_model=model)
                for pk, vector in zip(
                    ids[start : start + 1000], vectors[start : start + 1000], strict=True
                )
            ],
            ["embedding", "embedding_model"],
        )
    return vectors


def run(chunks: int, queries: int, seed: int, dimensions: int) -> dict:
    rng = random.Random(seed)
    tenant = Tenant.objects.create(slug="retrieval-bench", name="Retrieval bench")
    per_source = 20
    started = time.perf_counter()
    for number in range(0, chunks, per_source):
        texts = [chunk_text(rng) for _ in range(min(per_source, chunks - number))]
        source = KnowledgeSource.objects.create(
            tenant=tenant, kind=KnowledgeSource.Kind.FILE, title=f"Document {number // per_source}"
        )
        drafts = [
            ChunkDraft(position, f"Section {position}", text, count_tokens(text))
            for position, text in enumerate(texts)
        ]
        source_chunks_replace(tenant=tenant, source=source, drafts=drafts)
    stored = KnowledgeChunk.objects.filter(tenant=tenant).aggregate(
        count=Count("pk"), tokens=Avg("token_count")
    )
    ingest_seconds = time.perf_counter() - started

    gc.collect()
    rss_before = rss_mib()
    started = time.perf_counter()
    index = build_index(tenant.pk, "bench")
    build_seconds = time.perf_counter() - started
    gc.collect()
    rss_after = rss_mib()
    # Again under tracemalloc (which slows it) for the peak the build allocates on top.
    tracemalloc.start()
    build_index(tenant.pk, "bench")
    _, build_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    indexes = IndexCache()
    retrieve(tenant=tenant, query="warm up", indexes=indexes)  # builds this cache's index
    texts = [query_text(rng) for _ in range(queries)]
    timings, hit_counts = timed_retrieve(tenant, texts, indexes)
    search_timings = []
    for text in texts:
        started = time.perf_counter()
        index.bm25.search(tokenise(text), 5)
        search_timings.append((time.perf_counter() - started) * 1000)

    # Hybrid: the same questions, each with a vector near a random chunk's (cosine about 0.8).
    model = f"bench-random-{dimensions}"
    vectors = store_random_vectors(tenant, dimensions, model, seed)
    # Nothing listens there: a question whose vector is not in the table would fail fast.
    KnowledgeSettings.objects.create(
        tenant=tenant, embeddings_base_url="http://127.0.0.1:9/v1", embeddings_model=model
    )
    noise = np.random.default_rng(seed + 1)
    question_vectors = {}
    for text in texts:
        near = vectors[noise.integers(len(vectors))]
        blurred = near + 0.75 * noise.standard_normal(dimensions) / np.sqrt(dimensions)
        question_vectors[text] = (blurred / np.linalg.norm(blurred)).astype(np.float32)

    async def vector_of(*, tenant_id, endpoint, text):
        return question_vectors.get(text)

    retrieval.embed_query = vector_of
    started = time.perf_counter()
    hybrid_index = build_index(tenant.pk, "bench")
    hybrid_build_seconds = time.perf_counter() - started
    indexes = IndexCache()
    indexes.get(tenant.pk)
    hybrid_timings, hybrid_hit_counts = timed_retrieve(tenant, texts, indexes)
    vector_timings = []
    for text in texts:
        started = time.perf_counter()
        hybrid_index.vectors.search(question_vectors[text], retrieval.FUSION_DEPTH)
        vector_timings.append((time.perf_counter() - started) * 1000)
    return {
        "database": connection.vendor,
        "chunks": stored["count"],
        "average_chunk_tokens": round(stored["tokens"]),
        "ingest_seconds": round(ingest_seconds, 1),
        "vocabulary_terms": len(index.bm25.vocabulary),
        "postings": int(index.bm25.docs.size),
        "index_build_seconds": round(build_seconds, 2),
        "index_build_peak_mib": round(build_peak / 2**20, 1),
        "index_resident_mib": round(index_bytes(index) / 2**20, 1),
        "process_rss_growth_mib": round(rss_after - rss_before, 1),
        "queries": len(timings),
        "retrieve_p50_ms": round(percentile(timings, 0.50), 2),
        "retrieve_p99_ms": round(percentile(timings, 0.99), 2),
        "retrieve_max_ms": round(max(timings), 2),
        "bm25_only_p50_ms": round(percentile(search_timings, 0.50), 2),
        "bm25_only_p99_ms": round(percentile(search_timings, 0.99), 2),
        "queries_with_hits": sum(1 for count in hit_counts if count),
        "hybrid_dimensions": dimensions,
        "hybrid_index_build_seconds": round(hybrid_build_seconds, 2),
        "hybrid_matrix_mib": round(hybrid_index.vectors.matrix.nbytes / 2**20, 1),
        "hybrid_retrieve_p50_ms": round(percentile(hybrid_timings, 0.50), 2),
        "hybrid_retrieve_p99_ms": round(percentile(hybrid_timings, 0.99), 2),
        "hybrid_retrieve_max_ms": round(max(hybrid_timings), 2),
        "vectors_only_p50_ms": round(percentile(vector_timings, 0.50), 2),
        "vectors_only_p99_ms": round(percentile(vector_timings, 0.99), 2),
        "hybrid_queries_with_hits": sum(1 for count in hybrid_hit_counts if count),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--dimensions", type=int, default=384, help="of the random vectors")
    args = parser.parse_args()

    old_name = connection.settings_dict["NAME"]
    # A database of its own, created and dropped here: demo and test data are never touched.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        result = run(args.chunks, args.queries, args.seed, args.dimensions)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
