"""Many writers, one conversation: every message stored once, with a distinct, gap-free seq."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from helpdesk.conversations.models import Message
from helpdesk.conversations.services import Sender, message_post

WRITERS = 16
POSTS_PER_WRITER = 10


def run_concurrently(count: int, fn):
    """Run fn(0..count-1) on ``count`` threads released at once, each with its own connection."""
    start = threading.Barrier(count)

    def run(i):
        try:
            start.wait()
            return fn(i)
        finally:
            # Close this thread's connection so the test database can be dropped afterwards.
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count), timeout=60))


def post(conversation, text, client_id):
    return message_post(
        tenant=conversation.tenant,
        conversation_id=conversation.pk,
        sender=Sender.contact(),
        text=text,
        client_id=client_id,
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_get_distinct_gap_free_seqs(conversation):
    def writer(w):
        return [
            post(conversation, f"writer {w} message {n}", f"w{w}-m{n}").message.seq
            for n in range(POSTS_PER_WRITER)
        ]

    per_writer = run_concurrently(WRITERS, writer)

    total = WRITERS * POSTS_PER_WRITER
    stored = list(Message.objects.filter(conversation=conversation).order_by("seq"))
    assert [m.seq for m in stored] == list(range(1, total + 1))
    assert sorted(seq for seqs in per_writer for seq in seqs) == list(range(1, total + 1))
    assert {m.client_id for m in stored} == {
        f"w{w}-m{n}" for w in range(WRITERS) for n in range(POSTS_PER_WRITER)
    }
    # Each writer's own messages keep the order it sent them in.
    for seqs in per_writer:
        assert seqs == sorted(seqs)
    conversation.refresh_from_db()
    assert conversation.last_seq == total


@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_of_one_client_id_store_one_message(conversation):
    results = run_concurrently(
        WRITERS, lambda _: post(conversation, "resent by a flaky network", "the-same-id")
    )

    assert len({r.message.pk for r in results}) == 1
    assert sorted(r.created for r in results) == [False] * (WRITERS - 1) + [True]
    assert Message.objects.filter(conversation=conversation).count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_postgres_writers_really_are_separate_backends():
    """Guards the tests above: on PostgreSQL each writer thread is its own server backend."""

    def backend_pid(_):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    assert len(set(run_concurrently(4, backend_pid))) == 4
