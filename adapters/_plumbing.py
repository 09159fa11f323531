"""What the chat adapters share that belongs to no one platform: bot tokens kept out of the logs,
long texts cut into messages, buttons laid out in even rows, and a partly-sent reply resumed by
the core's retry.

Not a platform: shared plumbing for the platform adapters (adapters/platforms.py lists those).
"""
from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote

from bot.delivery import RetryAfter, Transient
from bot.events import UserKey
from bot.replies import Reply

T = TypeVar("T")


# -- secrets ------------------------------------------------------------------------------------

class RedactSecrets(logging.Filter):
    """Replaces every secret in log records by its mask: message, arguments, traceback and stack
    alike. One instance serves every adapter, so each token is masked wherever it turns up.

    Matching ignores case (python-telegram-bot lower-cases the text of a BadRequest, token and
    all) and also finds a secret percent-encoded, as an error page that echoes a URL shows it."""

    def __init__(self) -> None:
        super().__init__()
        self.masks: dict[str, str] = {}  # secret (lower case) -> what is logged instead
        self._pattern: re.Pattern[str] | None = None
        self.shapes: dict[str, tuple[re.Pattern[str], str]] = {}  # secrets known by their form

    def add(self, secret: str, mask: str) -> None:
        for form in {secret, quote(secret, safe="")}:
            self.masks[form.lower()] = mask
        longest_first = sorted(self.masks, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, longest_first)), re.IGNORECASE)

    def add_shape(self, pattern: str, mask: str) -> None:
        """Mask every text of this form (one token per person: they cannot be listed)."""
        self.shapes[pattern] = (re.compile(pattern), mask)

    def redact(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(lambda found: self.masks[found.group().lower()], text)
        for shape, mask in self.shapes.values():
            text = shape.sub(mask, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.masks and not self.shapes:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record: logging reports it itself
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_redactor = RedactSecrets()


def protect(secret: str, mask: str, loggers: Sequence[str]) -> None:
    """Keep `secret` out of every log line (`mask` stands in its place): the filter goes on the
    root logger's handlers, and on `loggers` and every logger below them that exists now, for
    handlers added later. Call it before the client library that knows the secret is built."""
    if not secret:
        return
    _redactor.add(secret, mask)
    _install(loggers)


def _install(loggers: Sequence[str]) -> None:
    """The one filter on the root logger's handlers and on these loggers and those below."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_redactor)  # once: addFilter skips a filter already there
    prefixes = tuple(loggers)
    names = [name for name in logging.root.manager.loggerDict if name.startswith(prefixes)]
    for name in {*names, *prefixes}:
        logging.getLogger(name).addFilter(_redactor)


def protect_pattern(pattern: str, mask: str, loggers: Sequence[str]) -> None:
    """As `protect`, for secrets known by their form (a regular expression), not by value."""
    _redactor.add_shape(pattern, mask)
    _install(loggers)


def redact(text: str) -> str:
    """`text` with every protected secret masked (for exception messages passed on)."""
    return _redactor.redact(text)


class FoldTraceback(logging.Filter):
    """Turns a record's traceback into its last line, appended to the message: for a library's
    log of a failure the adapter handles (and reports) itself, where a traceback is only noise
    on stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text = str(error).strip().splitlines()
            record.msg = f"{record.getMessage()} ({type(error).__name__}"\
                         f"{': ' + text[0] if text else ''})"
            record.args = None
            record.exc_info, record.exc_text = None, None
        return True


_folder = FoldTraceback()


def without_tracebacks(loggers: Sequence[str]) -> None:
    """Log records of exactly these loggers (not those below them) keep one line, no
    traceback. Added before the redaction on those loggers, so the folded text is masked too."""
    for name in loggers:
        logger = logging.getLogger(name)
        if _folder not in logger.filters:
            logger.filters.insert(0, _folder)


# -- text and buttons ---------------------------------------------------------------------------

def split_text(text: str | None, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """Parts of at most `limit` (as `size` counts them), cut at a paragraph, line or word when
    one ends in the second half of the part, else mid-word. Blank text gives no parts."""
    text = (text or "").strip()
    parts = []
    while size(text) > limit:
        cut = min(len(text), limit)
        while size(text[:cut]) > limit:  # only when `size` counts some characters as more
            cut -= 1
        for separator in ("\n\n", "\n", " "):
            at = text.rfind(separator, 0, cut)
            if at > cut // 2:
                cut = at
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].strip()
    return parts + [text] if text else parts


def even_rows(items: Sequence[T], labels: Sequence[str], *, numbers: int, short: int,
              medium: int, max_rows: int | None = None) -> list[list[T]]:
    """Buttons in rows that fit a phone: all-number labels (pain 0-10) up to `numbers` a row;
    others 3 a row when every label is at most `short` characters, 2 when at most `medium`,
    else 1. Row lengths differ by one at most, the longer rows first; with `max_rows`, rows are
    made wider rather than more."""
    if not items:
        return []
    if all(label.isdigit() for label in labels):
        per_row = numbers
    else:
        longest = max(len(label) for label in labels)
        per_row = 3 if longest <= short else 2 if longest <= medium else 1
    count = -(-len(items) // per_row)  # rows needed
    if max_rows is not None:
        count = min(count, max_rows)
    size, extra = divmod(len(items), count)  # the first `extra` rows get one more
    out, start = [], 0
    for row in range(count):
        end = start + size + (1 if row < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return out


# -- a reply in several messages, and the core's retries ------------------------------------------

@dataclass(eq=False)
class Progress:
    """One Reply on its way out: how many of its messages went out. Made afresh for each send
    by the core; kept between that send's tries only."""

    reply: Reply
    done: int = 0  # messages out, in order
    failures: int = 0  # tries that ended in RetryAfter or Transient


class Resume:
    """Partly-sent replies, so that the core's retry sends only the messages still missing.

    The core's Delivery sends one person's replies one at a time and, after a RetryAfter or
    Transient, tries the same Reply object again while keeping that person's turn: a retry is
    always the very next send to that person. So there is at most one open Progress a person,
    holding its Reply (an id(), unlike the object, can be reused once the reply is gone) and
    matched by identity. It is dropped as soon as that send is over: done, refused for good
    (Unreachable, a refusal the adapter logs, a cancel or crash), given up by the core after
    `tries` retryable failures, or followed by a send of anything else to that person."""

    def __init__(self, tries: int) -> None:
        self.tries = tries  # Delivery.MAX_TRIES: after that many failures the core gives up
        self.open: dict[UserKey, Progress] = {}

    @contextlib.contextmanager
    def sending(self, user: UserKey, reply: Reply) -> Iterator[Progress]:
        """Around one adapter send: yields the Progress to count messages on (carried over
        when this send retries the one before)."""
        progress = self.open.pop(user, None)
        if progress is None or progress.reply is not reply:
            progress = Progress(reply)
        try:
            yield progress
        except (RetryAfter, Transient):
            progress.failures += 1
            if progress.done and progress.failures < self.tries:  # the core will try again
                self.open[user] = progress
            raise
