"""The OpenAPI schema: valid, and every route of the API is in it."""

import pytest
from django.test import Client
from django.urls import get_resolver
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def api_routes() -> set[str]:
    """Every path the API routes, as the schema writes it (/api/v1/contacts/{contact_id})."""
    from helpdesk.api.site import api

    return {
        ("/api/v1" + prefix + path).rstrip("/")
        for prefix, router in api._routers
        for path in router.path_operations
    }


def test_the_schema_is_valid_openapi_and_names_every_route():
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    documented = {path.rstrip("/") for path in schema["paths"]}
    routes = api_routes()
    assert len(routes) >= 8
    assert routes <= documented, routes - documented
    assert schema["components"]["securitySchemes"]


def test_the_docs_page_is_served_from_our_own_static_files():
    page = Client().get("/api/v1/docs").content.decode()

    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert get_resolver()  # the URLconf loads with the API in it
