"""A POST refused for its CSRF token is answered in its view's own error shape."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_a_page_without_a_shape_of_its_own_gets_djangos_page():
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x"})

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_the_consoles_api_gets_its_json_error():
    response = Client(enforce_csrf_checks=True).post("/console/api/conversations/1/assist/suggest")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
