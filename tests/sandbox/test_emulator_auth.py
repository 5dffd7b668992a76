"""Authorization: the Bearer scheme, JWTs checked to the letter, static API keys."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jwt
import pytest
from sandbox_helpers import COLLECTION, Api, assert_refused, make_token

from mivid.sandbox import Emulator, FakeClock, Request


def _list(api: Api, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return api.client.get(COLLECTION, headers=headers)


def test_a_contract_jwt_is_accepted(api: Api) -> None:
    response = api.list()
    assert response.status_code == 200
    payload = response.json()
    assert payload["code"] == 0
    assert payload["message"] == "SUCCEED"
    assert payload["data"] == []
    assert payload["request_id"]


def test_a_static_api_key_is_accepted_as_is(api: Api) -> None:
    assert _list(api, "Bearer test-api-key").json()["code"] == 0


def test_a_missing_header_is_1001(api: Api) -> None:
    assert_refused(_list(api, None), 1001, 401, "missing")


@pytest.mark.parametrize(
    "template",
    ["bearer {}", "Bearer  {}", "Token {}", "{}", "Bearer\t{}", "Bearer {0}, Bearer {0}"],
)
def test_the_scheme_must_be_exactly_bearer_and_one_space(
    api: Api, clock: FakeClock, template: str
) -> None:
    assert_refused(_list(api, template.format(make_token(clock))), 1002, 401, "Bearer")


@pytest.mark.parametrize("value", ["Bearer {} ", "Bearer ", ""])
def test_values_httpx_cannot_send_are_refused_by_the_core(
    emulator: Emulator, clock: FakeClock, value: str
) -> None:
    request = Request("GET", COLLECTION, headers={"authorization": value.format(make_token(clock))})
    response = emulator.handle(request)
    assert (response.status, json.loads(response.body)["code"]) == (401, 1002)


def test_an_unknown_static_key_is_1002(api: Api) -> None:
    assert_refused(_list(api, "Bearer not-a-key"), 1002, 401, "neither a known API key nor a JWT")


def test_an_unknown_access_key_is_1000(api: Api, clock: FakeClock) -> None:
    token = make_token(clock, access_key="other-ak")
    assert_refused(_list(api, f"Bearer {token}"), 1000, 401, "other-ak")


def test_a_wrong_secret_is_1002(api: Api, clock: FakeClock) -> None:
    token = make_token(clock, secret_key="wrong-secret")
    assert_refused(_list(api, f"Bearer {token}"), 1002, 401, "signature")


@pytest.mark.parametrize("claim", ["exp", "nbf", "iss"])
def test_a_missing_claim_is_1002(api: Api, clock: FakeClock, claim: str) -> None:
    removed: dict[str, Any] = {claim: None}
    token = make_token(clock, **removed)
    assert_refused(_list(api, f"Bearer {token}"), 1002, 401, claim)


def test_a_token_not_valid_yet_is_1003(api: Api, clock: FakeClock) -> None:
    token = make_token(clock, nbf=int(clock()) + 2)
    assert_refused(_list(api, f"Bearer {token}"), 1003, 401, "nbf")


def test_an_expired_token_is_1004_without_leeway(api: Api, clock: FakeClock) -> None:
    token = make_token(clock)
    assert _list(api, f"Bearer {token}").json()["code"] == 0
    clock.advance(1800)  # exp == now: expired
    assert_refused(_list(api, f"Bearer {token}"), 1004, 401, "expired")


def test_times_in_milliseconds_are_refused(api: Api, clock: FakeClock) -> None:
    token = make_token(clock, exp=int(clock() * 1000) + 1_800_000)
    assert_refused(_list(api, f"Bearer {token}"), 1002, 401, "milliseconds")


@pytest.mark.parametrize(
    ("header", "fragment"),
    [({"alg": "HS256", "typ": "JWS"}, "typ"), ({"alg": "HS256"}, "typ"), ({"alg": "none"}, "alg")],
)
def test_the_jwt_header_must_be_hs256_jwt(
    api: Api, clock: FakeClock, header: dict[str, str], fragment: str
) -> None:
    good = make_token(clock)
    _, claims, signature = good.split(".")
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    assert_refused(_list(api, f"Bearer {encoded}.{claims}.{signature}"), 1002, 401, fragment)


def test_another_algorithm_is_refused(api: Api, clock: FakeClock) -> None:
    now = int(clock())
    token = jwt.encode(
        {"iss": "test-ak", "exp": now + 1800, "nbf": now - 5}, "test-sk", algorithm="HS512"
    )
    assert_refused(_list(api, f"Bearer {token}"), 1002, 401, "HS256")


def test_garbage_with_two_dots_is_1002(api: Api) -> None:
    assert_refused(_list(api, "Bearer a.b.c"), 1002, 401)


def test_each_account_sees_only_its_own_tasks(api: Api) -> None:
    task = api.create_ok()
    assert_refused(api.get(task["task_id"], credential="test-api-key"), 1203, 404)
    assert api.list(credential="test-api-key").json()["data"] == []
    assert [t["task_id"] for t in api.list().json()["data"]] == [task["task_id"]]


def test_auth_comes_after_routing(api: Api) -> None:
    """A wrong method is a client bug whatever the credentials."""
    response = api.client.delete(f"{COLLECTION}/123")
    assert_refused(response, 1202, 404, "DELETE")
