import factory
from django.contrib.auth import get_user_model

from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.conversations.services import message_post
from helpdesk.tenants.models import Inbox, Membership, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.Sequence(lambda n: f"Tenant {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.AGENT


class InboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inbox

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Website {n}")
    allowed_origins = "https://shop.example.com"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    tenant = factory.SubFactory(TenantFactory)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    tenant = factory.SubFactory(TenantFactory)
    inbox = factory.SubFactory(InboxFactory, tenant=factory.SelfAttribute("..tenant"))
    contact = factory.SubFactory(ContactFactory, tenant=factory.SelfAttribute("..tenant"))


class BotConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ai.BotConfig"

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Bot {n}")
    provider = "faq"
    # Tests answer at once; the batching tests set their own window.
    batch_window_ms = 0


class ModelBotFactory(BotConfigFactory):
    """A bot on an OpenAI-compatible endpoint (give ``base_url``: the fake model server's)."""

    provider = "openai"
    api_key = "test-key"
    model = "fake-model"
    max_retries = 0


def post_message(conversation, text, sender, kind=Message.Kind.TEXT, **kwargs) -> Message:
    """``message_post`` into ``conversation`` (in its own tenant): the stored message."""
    return message_post(
        tenant=conversation.tenant,
        conversation_id=conversation.pk,
        sender=sender,
        text=text,
        kind=kind,
        **kwargs,
    ).message
