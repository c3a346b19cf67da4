"""Which address sign-in failures count against: the project's one rule for client addresses."""

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from helpdesk.core.login_throttle import request_client_ip

PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory


def request(**meta):
    return RequestFactory().post("/console/login/", **meta)


def test_without_a_trusted_proxy_the_peer_address_counts_and_forwarded_for_is_ignored():
    assert request_client_ip(request(REMOTE_ADDR="198.51.100.7")) == "198.51.100.7"
    assert (
        request_client_ip(request(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="192.0.2.1"))
        == "198.51.100.7"
    )


@override_settings(USE_X_FORWARDED_FOR=True)
def test_behind_our_proxy_the_entry_it_added_counts_not_what_the_client_claimed():
    forwarded = "192.0.2.1, 203.0.113.50"  # the client wrote the first, our proxy the last

    ip = request_client_ip(request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded))

    assert ip == "203.0.113.50"


@pytest.mark.parametrize("peer", [None, "", "unix-socket", "999.1.1.1"])
def test_an_address_that_is_no_ip_counts_as_none(peer):
    meta = {} if peer is None else {"REMOTE_ADDR": peer}
    factory_request = request(**meta)
    if peer is None:
        del factory_request.META["REMOTE_ADDR"]

    assert request_client_ip(factory_request) is None


def test_ipv6_addresses_are_stored_in_one_spelling():
    assert request_client_ip(request(REMOTE_ADDR="2001:DB8:0:0::1")) == "2001:db8::1"


@pytest.mark.django_db
@override_settings(USE_X_FORWARDED_FOR=True)
def test_behind_our_proxy_each_client_has_its_own_count(agent):
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for n in range(settings.AXES_FAILURE_LIMIT):
        proxy.post(
            "/console/login/",
            {"username": f"guess-{n}", "password": "wrong"},
            HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.50",
        )

    guesser = proxy.post(
        "/console/login/",
        {"username": agent.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )
    colleague = proxy.post(
        "/console/login/",
        {"username": agent.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.51",
    )

    assert guesser.status_code == 429
    assert colleague.status_code == 302
