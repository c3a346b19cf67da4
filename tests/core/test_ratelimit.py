from django.test import RequestFactory, override_settings

from helpdesk.core.ratelimit import client_address
from helpdesk.realtime.consumers import client_ip
from helpdesk.widget.http import request_ip


def test_without_a_trusted_proxy_the_peer_is_the_client():
    assert client_address("203.0.113.9", "198.51.100.7") == "198.51.100.7"
    assert client_address(None, None) == "unknown"


@override_settings(USE_X_FORWARDED_FOR=True)
def test_behind_our_proxy_the_last_forwarded_address_counts_not_what_the_client_claims():
    assert client_address("10.6.6.6, 203.0.113.9", "192.0.2.1") == "203.0.113.9"
    assert client_address(None, "192.0.2.1") == "192.0.2.1"


@override_settings(USE_X_FORWARDED_FOR=True)
def test_http_and_websocket_requests_count_against_the_same_address():
    forwarded, peer = "10.6.6.6, 203.0.113.9", "192.0.2.1"
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=peer)
    scope = {"headers": [(b"x-forwarded-for", forwarded.encode())], "client": (peer, 5000)}

    assert request_ip(request) == client_ip(scope) == "203.0.113.9"
