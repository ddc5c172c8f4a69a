"""Helpers for API tests: JSON requests with a session or a bearer token.

The ``as_session`` and ``as_token`` fixtures that build these live in the root conftest.py."""

from __future__ import annotations

import json

from django.test import Client


class ApiClient:
    """A thin wrapper over Django's test client that speaks JSON to /api/v1."""

    def __init__(self, client: Client, token: str | None = None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, body=None, **extra):
        kwargs = {"headers": {**self.headers, **extra.pop("headers", {})}, **extra}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path, **extra):
        return self._call("get", path, **extra)

    def post(self, path, body=None, **extra):
        return self._call("post", path, {} if body is None else body, **extra)

    def patch(self, path, body=None, **extra):
        return self._call("patch", path, {} if body is None else body, **extra)

    def put(self, path, body=None, **extra):
        return self._call("put", path, {} if body is None else body, **extra)

    def delete(self, path, **extra):
        return self._call("delete", path, **extra)
