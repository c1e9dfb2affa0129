"""Schemathesis hooks for the chat server: a fresh login for every test case.

Every case logs in again (no cached token), so an operation that ends the caller's session
(a logout, a password change) cannot leave the rest of the run unauthenticated. The account
is made by `run` before the run starts; its name and password come in the environment.
"""

import os

import requests
import schemathesis

BASE_URL = os.environ["CHAT_BASE_URL"]
USERNAME = os.environ["CHAT_CONTRACT_USER"]
PASSWORD = os.environ["CHAT_CONTRACT_PASSWORD"]


@schemathesis.auth(refresh_interval=None)
class FreshLogin:
    """A bearer token from `POST /auth/login`, asked for anew by each case."""

    def get(self, case, context):
        response = requests.post(
            f"{BASE_URL}/auth/login",
            data={"username": USERNAME, "password": PASSWORD},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
