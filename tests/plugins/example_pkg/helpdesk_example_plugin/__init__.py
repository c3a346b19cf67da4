"""A minimal third-party plugin (the example in docs/plugins.md)."""

from helpdesk.plugins.base import BasePlugin
from helpdesk.plugins.config import ConfigField, FieldType


class GreetingPlugin(BasePlugin):
    id = "greeting"
    name = "Greeting"
    description = "Tells the bot to greet customers who say hello, by name."
    version = "0.1.0"
    config_fields = (
        ConfigField("words", FieldType.LIST, default=["hello", "hi", "你好"],
                    help="Greetings to look for, one per line."),
        ConfigField("line", FieldType.STR, default="Greet the customer warmly.", max_length=200),
    )  # fmt: skip

    def setup(self):
        self.words = [word.lower() for word in self.config["words"]]

    async def on_customer_message(self, message, metadata):
        if any(word in message.text.lower() for word in self.words):
            return {**metadata, "greeted": True}
        return metadata

    async def before_ai(self, conversation, context):
        return [*context, self.config["line"]]
