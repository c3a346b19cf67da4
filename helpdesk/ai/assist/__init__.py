"""Agent assist: a reply drafted for an agent to edit, and a summary for the agent who receives a
conversation, both written by the tenant's own model and never posted in the conversation.

A request (``suggest_reply``, ``summarize``) checks access and availability, then enqueues a job
(helpdesk/ai/assist_tasks.py). The job (``suggestion_write``, ``summary_write``) runs on the job
loop, asks the model within the bot's timeout and streams what it writes to the agents it is for,
at most one event per interval, never one per token:

    assist.delta, then assist.done or assist.error                to the agent who asked
    assist.summary.delta, then assist.summary or assist.error     to the agent(s) receiving it

Every event carries the request's id. Assist needs a bot on an OpenAI-compatible endpoint with a
model: without one it degrades quietly, the availability says why, and a request is refused with
``assist_unavailable`` before any job exists.

The parts, each imported from its own module:

- ``access``: whether a conversation's bot can assist (``assist_availability``), the checks a
  request passes (the agent's membership, the conversation, enough messages) and the errors a
  request is refused with.
- ``job``: what both jobs share: the run-once guard, loading the conversation and its bot,
  counting the tokens, and ``assist.error`` with the code of what failed (``AssistFailed``).
- ``streaming``: asking the model within the bot's timeout and behind its circuit breaker, and
  the stream that sends what it writes at most once per interval.
- ``suggestion``: ``suggest_reply`` (rate-limited, enqueued) and its job ``suggestion_write``.
- ``summary``: ``summarize`` (asked by an agent, or ``summary_on_change`` on a handoff or
  transfer), its job ``summary_write``, and ``conversation_assist_state``, what a console shows
  of assist and the newest summary.
- ``chunks``: ``knowledge_chunks_cited``, the knowledge a bot reply cited.
"""
