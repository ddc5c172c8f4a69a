"""The API plumbing: the OpenAPI document is served and names the paths of the routers."""

from __future__ import annotations

from django.test import Client


def test_openapi_is_served_and_lists_the_member_paths(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/members", "/api/v1/members/{member_id}",
                 "/api/v1/members/{member_id}/reveal", "/api/v1/auth/tokens",
                 "/api/v1/org/units"):
        assert path in paths
    assert "post" in paths["/api/v1/members"]
