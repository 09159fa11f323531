"""Who may use the player: Telegram launch data and our signed tokens, checked as documented."""
from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from player_world import ANA, BOB, BOT_TOKEN, DANA, SECRET, launch_data, token_for

from bot.events import UserKey
from bot.player.auth import AuthError, issue_token, telegram_person, token_person
from bot.player.limits import RateLimiter

MAX_AGE = 3600


def check(data: str, now: float | None = None, bot_token: str = BOT_TOKEN) -> UserKey:
    return telegram_person(data, bot_token, time.time() if now is None else now, MAX_AGE)


def refusal(data: str, **kwargs) -> str:
    with pytest.raises(AuthError) as refused:
        check(data, **kwargs)
    return refused.value.reason


def test_genuine_launch_data_names_its_telegram_user() -> None:
    assert check(launch_data(1001)) == ANA
    assert check(launch_data(1002, first_name="Bob")) == BOB


def test_launch_data_with_another_user_swapped_in_is_forged() -> None:
    fields = dict(parse_qsl(launch_data(1001)))
    fields["user"] = fields["user"].replace("1001", "1002")
    assert refusal(urlencode(fields)) == "signature"


def test_launch_data_signed_for_another_bot_is_forged() -> None:
    assert refusal(launch_data(1001, bot_token="999:another-bot")) == "signature"


def test_a_hash_that_was_never_computed_is_forged() -> None:
    fields = dict(parse_qsl(launch_data(1001)))
    fields["hash"] = "0" * 64
    assert refusal(urlencode(fields)) == "signature"


def test_stale_launch_data_is_refused_and_fresh_enough_passes() -> None:
    now = time.time()
    assert refusal(launch_data(1001, auth_date=now - MAX_AGE - 1), now=now) == "stale"
    assert check(launch_data(1001, auth_date=now - MAX_AGE + 60), now=now) == ANA


def test_launch_data_from_the_future_is_refused() -> None:
    now = time.time()
    assert refusal(launch_data(1001, auth_date=now + 3600), now=now) == "stale"


def test_every_field_but_hash_is_signed_including_telegrams_signature_field() -> None:
    """Newer clients add `signature` (for third parties); it is part of the check string too."""
    fields = dict(parse_qsl(launch_data(1001)))
    del fields["hash"]
    fields["signature"] = "c2lnbmVkLWJ5LXRlbGVncmFt"
    secret = hmac.new(b"WebAppData", BOT_TOKEN.encode(), hashlib.sha256).digest()
    check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    fields["hash"] = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    assert check(urlencode(fields)) == ANA
    fields["signature"] = "dGFtcGVyZWQ"
    assert refusal(urlencode(fields)) == "signature"


@pytest.mark.parametrize("data", [
    "", "hash=", "user=%7B%7D&auth_date=1&hash=ab", "not a query string at all",
    launch_data(1001) + "&user=%7B%22id%22%3A1002%7D",  # a second user field
    "x" * 5000,
])
def test_malformed_launch_data_is_refused(data: str) -> None:
    assert refusal(data) in ("malformed", "signature")


def test_launch_data_without_a_usable_user_is_refused_even_when_signed() -> None:
    for user in ('{"id": "1001"}', '{"id": true}', '[]', 'not json', '{"id": -5}'):
        fields = {"auth_date": str(int(time.time())), "user": user}
        secret = hmac.new(b"WebAppData", BOT_TOKEN.encode(), hashlib.sha256).digest()
        check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
        fields["hash"] = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
        assert refusal(urlencode(fields)) == "malformed", user


# --------------------------------------------------------------------------- our own token


def test_a_token_names_the_one_person_it_was_issued_for() -> None:
    assert token_person(SECRET, token_for(DANA), time.time()) == DANA
    assert token_person(SECRET, token_for(ANA), time.time()) == ANA


def test_an_expired_token_is_refused() -> None:
    token = issue_token(SECRET, DANA, expires_at=1_000)
    assert token_person(SECRET, token, 999) == DANA
    with pytest.raises(AuthError, match="expired"):
        token_person(SECRET, token, 1_000)


def test_a_token_rewritten_for_another_person_is_forged() -> None:
    dana, bob = token_for(DANA).split("."), token_for(BOB).split(".")
    with pytest.raises(AuthError, match="signature"):
        token_person(SECRET, ".".join([dana[0], bob[1], dana[2]]), time.time())


def test_a_token_from_another_server_is_forged() -> None:
    token = token_for(DANA, secret=b"some-other-server-secret-0000")
    with pytest.raises(AuthError, match="signature"):
        token_person(SECRET, token, time.time())


@pytest.mark.parametrize("token", ["", "v1", "v1.a.b.c", "v2.e30.AAAA", "v1.e30.!!!!",
                                   "v1.e30." + "A" * 600])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(AuthError):
        token_person(SECRET, token, time.time())


def test_a_token_has_one_spelling() -> None:
    """Characters a lenient base64 decoder would skip do not make a second valid token."""
    version, payload, mac = token_for(DANA).split(".")
    with pytest.raises(AuthError):
        token_person(SECRET, f"{version}.{payload}.{mac[:4]}*{mac[4:]}", time.time())


# --------------------------------------------------------------------------- request budgets


def test_each_person_has_their_own_request_budget_that_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(capacity=3, per_second=1.0, monotonic=lambda: now[0])
    assert [limiter.allow("ana") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("bob")  # Ana's flood does not spend Bob's budget
    now[0] += 1.0
    assert limiter.allow("ana") and not limiter.allow("ana")


def test_the_limiter_forgets_idle_people_to_stay_small() -> None:
    now = [0.0]
    limiter = RateLimiter(capacity=2, per_second=1.0, monotonic=lambda: now[0], max_keys=10)
    for number in range(10):
        limiter.allow(f"person{number}")
    now[0] += 5.0
    limiter.allow("newcomer")
    assert len(limiter._buckets) == 1
