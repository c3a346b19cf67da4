"""The agent-assist jobs (helpdesk/ai/assist/). They take ids, run on the job loop, and are
safe to run twice: a redelivered job finds its request id already taken and does nothing."""

from celery import shared_task

from helpdesk.ai.assist.suggestion import suggestion_write
from helpdesk.ai.assist.summary import summary_write
from helpdesk.core.loop import run_on_job_loop


# The names outlive any rename of the functions: jobs already queued carry them.
@shared_task(name="helpdesk.assist_suggest", acks_late=True)
def assist_suggest(tenant_id: int, conversation_id: int, user_id: int, request_id: str) -> str:
    """Draft a reply for the agent ``user_id`` and stream it to their screens."""
    return run_on_job_loop(
        suggestion_write(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            user_id=user_id,
            request_id=request_id,
        )
    )


@shared_task(name="helpdesk.assist_summarize", acks_late=True)
def assist_summarize(
    tenant_id: int, conversation_id: int, trigger: str, user_id: int | None, request_id: str
) -> str:
    """Summarise the conversation, store the summary and stream it to the agents receiving it."""
    return run_on_job_loop(
        summary_write(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            trigger=trigger,
            user_id=user_id,
            request_id=request_id,
        )
    )
