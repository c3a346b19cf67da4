"""Who acts on a customer's message once it is stored, decided in the statement that stores it.

The job that follows a customer message (helpdesk/conversations/tasks.py) runs the tenant's
plugins and the bot. Most messages of a plain chat have neither, and a job per message anyway
cost a broker round trip in the web process and several queries in a worker, for nothing.
Apps that act on customer messages register, at start, the SQL condition under which they do;
the fast path (helpdesk/conversations/fast_path.py) evaluates them in the statement that
stores the message, so the answer costs no round trip and is never stale.

A condition is an SQL boolean expression over ``%(tenant)s`` (the tenant's id) and
``conversation`` (the conversation's row as the message left it: ``conversation.status``).
"""

_conditions: dict[str, str] = {}


def follow_customer_messages(name: str, condition: str) -> None:
    """Have the message job run whenever ``condition`` holds (registered once per app)."""
    _conditions[name] = f"({condition})"


def followed_sql() -> str:
    """One SQL expression: does anyone act on this message?"""
    return " OR ".join(_conditions.values()) or "FALSE"
