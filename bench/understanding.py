"""Parser benchmark: time to read one typed message, the new reader against the old parser.

Every message a person sends is parsed before anything else happens, so reading must stay far
below what a person can notice. The same messages (commands, sentences, typos, numbers, times,
places, junk) go through `bot.intents.parse` and through the parser as it was before issue 15
(kept below as `legacy_parse`: whole-message words, strict pain/why forms, first words), in the
same run, interleaved, so the figures are ratios on the same machine at the same moment.

    python -m bench.understanding [--rounds 200]
"""
from __future__ import annotations

import argparse
import re
import statistics
import time
import unicodedata

from bot.events import Text, UserKey
from bot.intents import parse
from bot.understanding import current_catalogue
from tests.legacy_words import LEGACY_WORDS

MESSAGES = [
    # commands, as typed every day
    "done", "start session", "pause", "resume", "skip", "skip rest", "+10", "stop", "next",
    "help", "progress", "settings", "yes", "no", "4", "pain 3", "/start", "thanks",
    # the sentences issue 15 lists
    "i'm done", "I don't know", "almost", "my back hurts a lot", "better, maybe a 4",
    "add 10 seconds", "how long is left?", "what's next?", "how do I do this?",
    "show me a picture", "exit", "change the time to 6:45 pm", "I moved to berlin",
    "oops I meant no", "why side plank",
    # longer sentences, numbers, negation, typos, places
    "ok so I think I'm finished with this set now, what comes next?",
    "pain is like 3 out of 10, a bit better than yesterday",
    "don't stop the workout, I just need a second", "I'm not done yet",
    "finsihed", "pasue", "strat session", "I'm in New York now",
    "can you pause my reminders for a week please", "remind me at 7 in the morning",
    "my hamstrings feel tight but there is no tingling or anything like that",
    "honestly I have no idea what you mean by that question, can you explain it again?",
    # what the coach can't read
    "the weather is lovely today", "asdfghjkl", "🙂", "x" * 20000, "'; DROP TABLE users; --",
]


# -- the parser as it was before issue 15, for the baseline ------------------------------------
# (its word table: tests/legacy_words.py, which the tests check is still understood)

_LEGACY_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten".split())}
_LEGACY_PAIN = re.compile(
    r"^(?:pain|my pain is|pain is|pain level)?\s*[:=]?\s*(-?\d{1,3})\s*(?:/\s*10)?$")
_LEGACY_WHY = re.compile(r"^why(?: is| did| has)?\s+(?:my\s+)?(.+?)(?:\s+(?:harder|easier|change|"
                         r"changed|go up|go down|move|moved))?\??$")


def _legacy_normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")[:500]
    text = "".join(ch for ch in text if ch.isprintable() or ch == " ")
    text = " ".join(text.lower().split())
    text = re.sub(r"^/(\w+)@\w+", r"\1", text)
    return text.lstrip("/").strip(" .!,;")


def legacy_parse(text: str) -> tuple[str, str]:
    """The old text path of bot/intents.py (commit d34843c), verbs and args only."""
    norm = _legacy_normalise(text)
    if not norm:
        return "empty", ""
    if norm in LEGACY_WORDS:
        return LEGACY_WORDS[norm], ""
    words = norm.split()
    if len(words) in (1, 2) and words[-1] in _LEGACY_NUMBERS and (
            len(words) == 1 or words[0] == "pain"):
        return "number" if len(words) == 1 else "pain", str(_LEGACY_NUMBERS[words[-1]])
    match = _LEGACY_PAIN.match(norm)
    if match:
        return "pain" if norm.startswith(("pain", "my pain")) else "number", match.group(1)
    why = _LEGACY_WHY.match(norm)
    if why:
        return "why", why.group(1).strip()
    first, _, rest = norm.partition(" ")
    if first in ("pain", "session", "settings", "help", "progress", "rescreen", "stop", "snooze"):
        return first, rest
    return "text", norm


# -- timing -------------------------------------------------------------------------------------

def _per_message(read, message, rounds: int) -> float:
    """Seconds for one read of `message`: the best of a few batches (least disturbed)."""
    best = float("inf")
    batch = max(1, rounds // 5)
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(batch):
            read(message)
        best = min(best, (time.perf_counter() - started) / batch)
    return best


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=200, help="reads per message and parser")
    args = options.parse_args()

    started = time.perf_counter()
    current_catalogue()
    load_ms = (time.perf_counter() - started) * 1000
    key = UserKey("bench", "1")

    def new(text: str):
        return parse(Text(key, text))

    new_times, old_times = [], []
    for message in MESSAGES:  # interleaved: both parsers see the same moment of the machine
        old_times.append(_per_message(legacy_parse, message, args.rounds))
        new_times.append(_per_message(new, message, args.rounds))
    ratios = [n / o for n, o in zip(new_times, old_times)]

    def us(seconds: float) -> str:
        return f"{seconds * 1e6:8.1f} µs"

    print(f"Phrase catalogue: {len(current_catalogue().whole)} whole-message phrases, "
          f"loaded and indexed once in {load_ms:.1f} ms")
    print(f"{len(MESSAGES)} messages, {args.rounds} reads each per parser\n")
    print(f"{'':24}{'new reader':>12}{'old parser':>14}{'ratio':>9}")
    for name, pick in (("median", statistics.median),
                       ("90th percentile", lambda xs: statistics.quantiles(xs, n=10)[-1]),
                       ("slowest", max)):
        print(f"{name:24}{us(pick(new_times)):>12}{us(pick(old_times)):>14}"
              f"{pick(new_times) / pick(old_times):8.1f}x")
    print(f"\nmedian of per-message ratios: {statistics.median(ratios):.1f}x  "
          f"(new reader, median per message: {statistics.median(new_times) * 1e3:.3f} ms; "
          "target: well under 1 ms)")
    slowest = sorted(zip(new_times, MESSAGES), reverse=True)[:5]
    print("slowest messages for the new reader:")
    for seconds, message in slowest:
        print(f"  {us(seconds)}  {message[:60]!r}")


if __name__ == "__main__":
    main()
