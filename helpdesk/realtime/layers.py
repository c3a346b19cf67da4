"""The embedded mode's channel layer: Channels' in-memory layer, safe across event loops.

In one process the server's loop runs the consumers and the AI loop (helpdesk/ai/loop.py)
streams the bot's replies. The stock in-memory layer hands messages to an asyncio queue of the
receiver's loop from whatever loop sends — not thread-safe, so a reply could sit unseen until
something else woke the server's loop. Here a send is carried out on the receiver's own loop.
"""

import asyncio

from channels.layers import InMemoryChannelLayer


class LoopSafeInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._receiver_loops: dict[str, asyncio.AbstractEventLoop] = {}

    async def receive(self, channel):
        self._receiver_loops[channel] = asyncio.get_running_loop()
        if len(self._receiver_loops) > 10_000:
            # Forget loops of channels the layer itself has dropped.
            for name in [n for n in self._receiver_loops if n not in self.channels]:
                self._receiver_loops.pop(name, None)
        return await super().receive(channel)

    async def send(self, channel, message):
        loop = self._receiver_loops.get(channel)
        if loop is None or not loop.is_running() or loop is asyncio.get_running_loop():
            return await super().send(channel, message)
        future = asyncio.run_coroutine_threadsafe(super().send(channel, message), loop)
        return await asyncio.wrap_future(future)
