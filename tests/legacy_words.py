"""The words the parser knew before issue 15 and what each meant then: the baseline of
bench/understanding.py, and what tests/test_understanding.py checks is still understood."""
from __future__ import annotations

LEGACY_WORDS = {
    "start": "start", "hi": "start", "hello": "start", "hey": "start",
    "session": "session", "start session": "session", "start_session": "session",
    "startsession": "session", "start workout": "session", "workout": "session",
    "train": "session", "go": "session", "lets go": "session", "let's go": "session",
    "pause": "pause", "wait": "pause", "hold on": "pause",
    "resume": "resume", "continue": "resume", "unpause": "resume",
    "skip rest": "skip_rest", "skip_rest": "skip_rest", "skiprest": "skip_rest",
    "+10": "add_time", "+10s": "add_time", "+10 s": "add_time", "plus 10": "add_time",
    "more time": "add_time", "add10": "add_time",
    "skip": "skip", "skip exercise": "skip", "next": "skip", "next exercise": "skip",
    "stop": "stop", "end": "stop", "quit": "stop", "stop workout": "stop", "cancel": "stop",
    "done": "done", "finished": "done", "did it": "done", "ok done": "done",
    "progress": "progress", "stats": "progress", "my progress": "progress", "ladder": "progress",
    "help": "help", "?": "help", "menu": "help", "commands": "help",
    "rescreen": "rescreen", "re-screen": "rescreen", "retake": "rescreen",
    "re-take the check": "rescreen", "safety check": "rescreen",
    "settings": "settings", "export": "export", "my data": "export",
    "delete": "delete", "delete my data": "delete", "forget me": "delete",
    "yes": "yes", "y": "yes", "yeah": "yes", "yep": "yes", "yes please": "yes",
    "no": "no", "n": "no", "nope": "no", "not really": "no",
    "ok": "ok", "okay": "ok", "got it": "ok", "understood": "ok", "sure": "ok",
    "snooze": "snooze", "remind me later": "snooze",
    "skip today": "skip_today", "not today": "skip_today",
}
