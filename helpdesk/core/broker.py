"""The Celery broker's Redis transport: kombu's, with a channel that closes when Redis is gone.

kombu's redis ``Channel.close()`` first reads the reply to the BRPOP it has waiting. When Redis
went away, that read raises a connection error and close() stops there, before it marks the
channel closed. Celery's consumer, on losing the broker, first collects the connection (which
closes the channels, ignoring connection errors, and then detaches the transport:
``transport.client = None``) and then closes it, closing the half-closed channel once more.
That second close goes on to put the channel's unacknowledged jobs back in the queue, through
a new connection pool built from the detached client: ``AttributeError: 'NoneType' object has
no attribute 'hostname'``. Not being a connection error, it ends the worker ("Unrecoverable
error"), and nothing runs jobs until someone starts it again.

It takes three things at once: a job delivered and not yet acknowledged (with acks_late, every
running job), a BRPOP in flight, and another channel whose close fails first so that collect()
never closes the default channel a second time (the remote-control mailbox's, a fanout queue
deleted on close). A busy worker has all three in most Redis restarts; an idle one never does.
Turning the remote-control mailbox off would hide it at the price of ``celery inspect``, ping
and revoke. Closing the channel properly instead is the fix: tests/core/test_broker.py checks
it, and checks that kombu's own transport still needs it.
"""

from queue import Empty

from kombu.transport import redis


class Channel(redis.Channel):
    def close(self):
        if self._in_poll and not self.closed:
            try:
                self._brpop_read()
            except Empty:
                pass
            except self.connection_errors:
                # The reply went with the connection. kombu's close() would stop here; going on
                # marks the channel closed and tries to put its unacknowledged jobs back now,
                # while the transport can still make a connection.
                pass
        super().close()


class Transport(redis.Transport):
    Channel = Channel
