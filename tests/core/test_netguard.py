"""The address policy and the connect-time guard, through a plain httpx client (as webhooks and
knowledge sources will use it) against the fake model server on 127.0.0.1.

Host names come from the fake resolver (``dns``); ``connects`` fails a test that opens a
connection anywhere but 127.0.0.1.
"""

import httpx
import pytest

from helpdesk.core.netguard import AddressPolicy, AddressRefused, GuardedTransport

# A fixture: an HTTPS server on 127.0.0.1 whose certificate names shop.test, recording SNI.
from tests.plugins.test_safe_http import tls_server  # noqa: F401

PUBLIC = "203.0.113.10"  # a documentation address: public to the policy, routed nowhere
LOOPBACK_ONLY = AddressPolicy(allow_loopback=True)


def test_an_operator_list_becomes_hosts_and_networks():
    policy = AddressPolicy.from_entries(
        [" Ollama.Internal. ", "10.0.0.7", "10.1.0.0/16", "[::1]", "fd00::/8", ""]
    )

    assert policy.allowed_hosts == frozenset({"ollama.internal"})
    assert [str(net) for net in policy.allowed_networks] == [
        "10.0.0.7/32",
        "10.1.0.0/16",
        "::1/128",
        "fd00::/8",
    ]
    assert policy.allow_loopback is False


@pytest.mark.parametrize(
    "entry",
    ["10.0.0.7/8", "300.1.1.1", "ollama:11434", "http://ollama/v1", "*.internal", "a b"],
)
def test_a_malformed_entry_is_refused_by_name(entry):
    with pytest.raises(ValueError, match=repr(entry).replace("*", r"\*").replace(".", r"\.")):
        AddressPolicy.from_entries(["fine.example", entry])


@pytest.mark.parametrize(
    ("host", "address", "refused"),
    [
        ("api.example.com", PUBLIC, False),
        ("api.example.com", "127.0.0.1", True),
        ("api.example.com", "10.0.0.1", True),
        ("api.example.com", "169.254.169.254", True),
        ("ollama.internal", "10.9.9.9", False),  # allowed by name, whatever it resolves to
        ("OLLAMA.internal.", "127.0.0.1", False),
        ("vllm.internal", "10.1.2.3", False),  # allowed by network, whatever the name
        ("vllm.internal", "10.2.0.1", True),
        ("api.example.com", "::1", False),
        # An allowed IPv4 network never admits the same address dressed as IPv6.
        ("api.example.com", "::ffff:10.1.2.3", True),
        ("api.example.com", "not-an-ip", True),
    ],
)
def test_the_policy_admits_public_and_operator_allowed_addresses_only(host, address, refused):
    policy = AddressPolicy.from_entries(["ollama.internal", "10.1.0.0/16", "::1"])

    assert (policy.problem(host, address) is not None) is refused


def test_the_default_policy_admits_public_addresses_only():
    policy = AddressPolicy()

    assert policy.problem("example.com", PUBLIC) is None
    assert policy.problem("localhost", "127.0.0.1") == "127.0.0.1 is loopback"
    assert "forbidden range 10.0.0.0/8" in policy.problem("x", "10.0.0.1")


async def test_the_client_connects_to_a_checked_address_and_keeps_the_host_name(
    fake_llm, dns, connects
):
    # The first address refuses connections (nothing listens there); the next one answers.
    dns.add("models.example.test", ["127.0.0.2", "127.0.0.1"])
    port = httpx.URL(fake_llm.url).port

    async with httpx.AsyncClient(transport=GuardedTransport(LOOPBACK_ONLY)) as client:
        response = await client.get(f"http://models.example.test:{port}/v1/models")

    assert response.status_code == 200
    assert connects.hosts == ["127.0.0.2", "127.0.0.1"]
    assert fake_llm.last_request.headers["host"] == f"models.example.test:{port}"
    assert dns.count("models.example.test") == 1


@pytest.mark.parametrize(
    "answers",
    [["127.0.0.1"], [PUBLIC, "10.0.0.1"], ["::ffff:127.0.0.1"]],
    ids=["loopback", "one-private-among-public", "mapped-loopback"],
)
async def test_one_forbidden_address_refuses_the_host_before_any_connection(
    fake_llm, dns, connects, answers
):
    dns.add("models.example.test", answers)
    port = httpx.URL(fake_llm.url).port

    async with httpx.AsyncClient(transport=GuardedTransport(AddressPolicy())) as client:
        with pytest.raises(AddressRefused) as refused:
            await client.get(f"http://models.example.test:{port}/v1/models")

    assert refused.value.code == "private_address"
    assert refused.value.host == "models.example.test"
    assert connects.hosts == []
    assert fake_llm.total_requests == 0


async def test_a_name_is_checked_again_on_every_new_connection(fake_llm, dns, connects):
    # Public when first asked, loopback afterwards: the DNS-rebinding pattern.
    dns.add("models.example.test", [PUBLIC], ["127.0.0.1"])
    connects.divert[PUBLIC] = "127.0.0.1"
    port = httpx.URL(fake_llm.url).port
    url = f"http://models.example.test:{port}/v1/models"

    async with httpx.AsyncClient(transport=GuardedTransport(AddressPolicy())) as first:
        assert (await first.get(url)).status_code == 200
    async with httpx.AsyncClient(transport=GuardedTransport(AddressPolicy())) as second:
        with pytest.raises(AddressRefused, match="127.0.0.1 is loopback"):
            await second.get(url)

    assert connects.hosts == [PUBLIC]
    assert fake_llm.total_requests == 1


async def test_https_keeps_the_name_for_sni_and_the_certificate(
    tls_server,  # noqa: F811
    dns,
    connects,
):
    tls_server.sni.clear()
    dns.add("shop.test", ["127.0.0.1"])
    dns.add("other.test", ["127.0.0.1"])
    transport = GuardedTransport(LOOPBACK_ONLY, ssl_context=tls_server.client_context)

    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(tls_server.url("/echo", host="shop.test"))
        # Same checked IP, another name: the certificate (for shop.test) must not pass.
        with pytest.raises(httpx.ConnectError, match="(?i)certificate|hostname"):
            await client.get(tls_server.url("/echo", host="other.test"))

    assert response.json() == {"host": f"shop.test:{tls_server.port}"}
    assert tls_server.sni[0] == "shop.test"
    assert connects.hosts == ["127.0.0.1", "127.0.0.1"]


async def test_an_unknown_name_is_a_connect_error(dns, connects):
    async with httpx.AsyncClient(transport=GuardedTransport(AddressPolicy())) as client:
        with pytest.raises(httpx.ConnectError, match="cannot resolve"):
            await client.get("http://nowhere.invalid/")

    assert connects.hosts == []
