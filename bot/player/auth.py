"""Who is asking: Telegram Mini App launch data, or our own signed single-person token.

Either way the answer is one person (a UserKey). Nothing in a request body can name a person, so a
valid credential only ever reaches its own holder's workout.

Telegram (core.telegram.org/bots/webapps, "Validating data received via the Mini App"): the
secret key is HMAC-SHA256 of the bot token keyed with "WebAppData"; the hash is HMAC-SHA256 of
the data-check-string (every field but `hash`, as "key=value" lines sorted by key, joined by
"\\n") keyed with that secret, in hex.

Our token (Discord links, the terminal): "v1.<payload>.<mac>", payload the base64url JSON
{"person": "platform:id", "expires": unix seconds}, mac the base64url HMAC-SHA256 of
"v1.<payload>" keyed with a server secret.

Times are real Unix seconds, never the coach's scaled clock: Telegram stamps auth_date in real time.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from urllib.parse import parse_qsl

from bot.events import UserKey

TELEGRAM = "telegram"
MAX_LAUNCH_DATA_CHARS = 4096
MAX_TOKEN_CHARS = 512
FUTURE_SKEW_S = 300  # launch data stamped a little ahead of our clock is still fine
TOKEN_VERSION = "v1"
# Any token of ours, for log filters (a link holds one): the version, the payload, a 32-byte MAC.
TOKEN_PATTERN = r"\bv1\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{43}\b"
TOKEN_MASK = "<player-token>"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class AuthError(Exception):
    """The credential is missing, malformed, forged or too old; `reason` says which (never logged
    with the credential itself)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def telegram_person(launch_data: str, bot_token: str, now: float, max_age_s: float) -> UserKey:
    """The Telegram user the launch data was signed for; AuthError unless it is genuine and fresh."""
    fields = _launch_fields(launch_data)
    received = fields.pop("hash", "")
    expected = telegram_hash(bot_token, fields)
    if not hmac.compare_digest(expected.encode(), received.encode()):
        raise AuthError("signature")
    auth_date = _whole_number(fields.get("auth_date"))
    if auth_date is None:
        raise AuthError("malformed")
    if now - auth_date > max_age_s or auth_date - now > FUTURE_SKEW_S:
        raise AuthError("stale")
    return UserKey(TELEGRAM, str(_telegram_user_id(fields.get("user"))))


def telegram_hash(bot_token: str, fields: dict[str, str]) -> str:
    """The hex signature Telegram puts in `hash` for these fields (everything except `hash`)."""
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def _launch_fields(launch_data: str) -> dict[str, str]:
    if not launch_data or len(launch_data) > MAX_LAUNCH_DATA_CHARS:
        raise AuthError("malformed")
    try:
        pairs = parse_qsl(launch_data, keep_blank_values=True, strict_parsing=True,
                          errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise AuthError("malformed") from None
    fields = dict(pairs)
    if len(fields) != len(pairs) or "hash" not in fields:  # a repeated key is never Telegram's
        raise AuthError("malformed")
    return fields


def _telegram_user_id(user_json: str | None) -> int:
    try:
        user = json.loads(user_json or "")
    except ValueError:
        raise AuthError("malformed") from None
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise AuthError("malformed")
    return user_id


def _whole_number(text: str | None) -> int | None:
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return int(text)


# --------------------------------------------------------------------------- our own token


def issue_token(secret: bytes, person: UserKey, expires_at: float) -> str:
    """A token that lets its holder run their own workout until `expires_at` (Unix seconds)."""
    payload = json.dumps({"person": str(person), "expires": int(expires_at)},
                         separators=(",", ":")).encode()
    signed = f"{TOKEN_VERSION}.{_b64(payload)}"
    return f"{signed}.{_b64(_token_mac(secret, signed))}"


def token_person(secret: bytes, token: str, now: float) -> UserKey:
    """The person a token was issued for; AuthError unless it is ours and not expired."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise AuthError("malformed")
    version, payload, mac = token.split(".")
    signed = f"{version}.{payload}"
    if version != TOKEN_VERSION:
        raise AuthError("malformed")
    try:
        received = _unb64(mac)
    except ValueError:
        raise AuthError("malformed") from None
    if not hmac.compare_digest(_token_mac(secret, signed), received):
        raise AuthError("signature")
    claims = json.loads(_unb64(payload))  # signed by us, so well formed
    if now >= claims["expires"]:
        raise AuthError("expired")
    platform, _, person_id = claims["person"].partition(":")
    return UserKey(platform, person_id)


def _token_mac(secret: bytes, signed: str) -> bytes:
    return hmac.new(secret, signed.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not _BASE64URL.fullmatch(text):  # one spelling per token: no ignored characters
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("not base64url") from None
