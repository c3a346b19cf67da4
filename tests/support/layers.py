import asyncio

from channels.layers import get_channel_layer


class Listener:
    """A channel subscribed to groups, like a consumer would be.

    It keeps one event loop: the Redis layer binds a channel's receive buffer to the loop
    that first read it.
    """

    def __init__(self, *groups):
        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()
        self.channel = self.loop.run_until_complete(self.layer.new_channel())
        self.groups = groups
        for group in groups:
            self.loop.run_until_complete(self.layer.group_add(group, self.channel))

    def events(self, wait: float = 0.3) -> list[dict]:
        async def drain():
            received = []
            while True:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), wait)
                except TimeoutError:
                    return received
                received.append(message["event"])

        return self.loop.run_until_complete(drain())

    def close(self):
        for group in self.groups:
            self.loop.run_until_complete(self.layer.group_discard(group, self.channel))
        self.loop.close()
