"""Every benchmark in bench/ still runs against the coach as it is now: each one at its smallest
sensible size, as `python -m bench.X` in a child process from the repository's root, must exit
0 and print the lines that carry its figures. The figures themselves depend on the machine, so
nothing here checks a number that speed could change (only counts that any healthy run gets
exactly); a change that breaks a benchmark fails here instead of going unnoticed.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATIENCE = 170.0  # seconds: only a hung benchmark reaches it (pytest's own timeout is 180)
NUMBER = r"[\d.,]+"
PICTURES_ENV = "BACKCOACH_PICTURES"  # set for every test by conftest.py; not when run by hand


def bench(name: str, *options: str) -> str:
    """Run `python -m bench.<name> <options>` as a person would; what it printed."""
    env = {key: value for key, value in os.environ.items() if key != PICTURES_ENV}
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", *options], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=PATIENCE)
    assert done.returncode == 0, (f"bench.{name} exited with {done.returncode}\n"
                                  f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def prints(report: str, *patterns: str) -> None:
    """Each pattern matches a line of the report."""
    for pattern in patterns:
        assert re.search(pattern, report, re.MULTILINE), f"no line matching {pattern!r}:\n{report}"


def test_charts_draws_the_progress_chart_beside_a_bare_figure():
    report = bench("charts", "--rounds", "2")  # its speed lives here, not in tests/test_charts.py
    prints(report,
           rf"^progress chart \(20 points, 3 stage marks, 800x450 PNG\): {NUMBER} ms median of 2",
           rf"^baseline, a bare figure of the same size with one line: {NUMBER} ms median",
           rf"^chart / baseline: {NUMBER}x \(target <= 5x\): (met|MISSED)")


def test_understanding_reads_every_message_with_both_parsers():
    report = bench("understanding", "--rounds", "5")
    prints(report,
           rf"^Phrase catalogue: \d+ whole-message phrases, loaded and indexed once in {NUMBER} ms",
           r"^50 messages, 5 reads each per parser",
           rf"^median\s+{NUMBER} µs\s+{NUMBER} µs\s+{NUMBER}x",
           rf"^slowest\s+{NUMBER} µs\s+{NUMBER} µs\s+{NUMBER}x",
           rf"^median of per-message ratios: {NUMBER}x",
           r"^slowest messages for the new reader:")


def test_memory_answers_and_forgets_every_person():
    report = bench("memory", "--people", "200", "--warmup", "50", "--concurrency", "20")
    prints(report,
           rf"^after the warm-up: RSS {NUMBER} MB",
           rf"^\s+200 people: RSS\s+{NUMBER} MB \([+-]{NUMBER} MB\), {NUMBER} people/s",
           rf"^RSS before {NUMBER} MB, after {NUMBER} MB: [+-]{NUMBER} MB for 200 people",
           # Counts, not speed: everyone answered and saved, nothing per person left behind.
           r"^stored: 250 people answered and saved \(warm-up included\); replies sent 250",
           r"^kept in memory per person: coach locks 0, delivery locks 0, workouts 0, "
           r"send budgets \d+",
           r"^target growth <= 50 MB, .*: (met|MISSED)")


def test_pictures_times_drawing_and_the_first_workout_after_start_up():
    report = bench("pictures", "--rounds", "1")
    prints(report,
           r"^poses\.toml loaded and checked in \d+ ms",
           r"^\d+ distinct pictures drawn, median \d+ ms, slowest \d+ ms",
           rf"^all \d+ stages: cold {NUMBER} s, warm {NUMBER} ms",
           rf"^loop wake-up lateness \(10 ms ticks\): idle {NUMBER} ms, during warm-up {NUMBER} ms",
           r"^first animation awaited \(files_async\): cold cache \d+ ms",
           r"^first workout right after start-up, 1 rounds each",
           rf"^\s+cold\s+cache: card\s+{NUMBER} /\s+{NUMBER}\s+first cue\s+{NUMBER}",
           # From a full cache the first exercise card always carries its picture.
           rf"^\s+warm\s+cache: card\s+{NUMBER} /\s+{NUMBER}\s+first cue\s+{NUMBER} /\s+"
           rf"{NUMBER}\s+cards with their picture: 1/1",
           rf"^\s+rendering adds to the first cue: [+-]{NUMBER} ms at the median")


def test_reminders_start_up_and_fan_out():
    report = bench("reminders", "--users", "200", "--rounds", "1", "--seconds", "2",
                   "--ceiling", "50")
    prints(report,
           r"^1\. 200 people over 24 time zones, build\(\) to scheduler ready",
           # a daily and a weekly-summary row per person
           rf"^\s+cold start \(schedule computed\)\s+{NUMBER} s .*peak RSS \d+ MB, 400 rows",
           rf"^\s+warm restart\s+{NUMBER} s .*peak RSS \d+ MB, 400 rows",
           r"^2\. fan-out at the platforms' budgets",
           rf"^\s+telegram \(30/s\), 60 due: sent \d+ in \S+ s: .* of the budget; "
           r"duplicates \d+, misses \d+",
           rf"^\s+discord \(50/s\), 100 due: sent \d+ in \S+ s: .* of the budget; "
           r"duplicates \d+, misses \d+",
           r"^3\. CPU ceiling, no budget: 50 due, sent \d+ in \S+ s = \S+ sends/s")


def test_telegram_coach_beside_the_echo_bot():
    report = bench("telegram", "--users", "2", "--messages", "3", "--rounds", "1")
    prints(report,
           r"^round 1: echo\s+\d+ updates/s\s+adapter echo\s+\d+ updates/s\s+coach\s+\d+ "
           r"updates/s",
           r"^2 people x 3 messages \(6 updates: pain 3 / progress / help\)",
           rf"^\s+the adapter alone \(echo, no core\) :\s+\d+ updates/s = {NUMBER} of the echo",
           rf"^\s+coach / echo, replies per second\s+: {NUMBER}")


def test_timers_ours_beside_chained_sleeps():
    report = bench("timers", "--workouts", "3", "--rounds", "1", "--exercises", "1",
                   "--seconds-per-phase", "1", "--reps", "1", "--spread", "0.1")
    figures = rf"cue lateness\s+{NUMBER} /\s*{NUMBER} /\s*{NUMBER}\s+\|\s+end drift .*wrap-up"
    prints(report,
           r"^3 concurrent workouts, 1 exercises x 2 phases of 1 s",
           rf"^deadline timers \(ours\), round 1 {figures}",
           rf"^chained asyncio\.sleep, round 1 {figures}",
           rf"^ours / baseline, p99: cue lateness {NUMBER} .*end drift {NUMBER}",
           r"^targets (met|MISSED); delivered \d+ messages")


def test_budget_now_and_before_issue_16():
    # The smallest run still takes about 25 s: at one message a second per chat, each person's
    # dozen messages (pain question, plan, card, cues, summary, pain answer) take that long,
    # once through today's delivery and once through the old one.
    report = bench("budget", "--people", "2", "--baseline-for", "2", "--reps", "1",
                   "--hold-seconds", "1", "--spread", "0", "--in-group", "2")
    for delivery in ("now", "before"):
        prints(report,
               rf"^{delivery}\s+2 people\s+\d+ sends in\s+{NUMBER} s\s+same-chat gaps < 1 s:\s+"
               rf"\d+\s+seconds over 30:\s+\d+ \(busiest\s+\d+\)\s+cue lateness p50\s+{NUMBER} ms"
               rf"\s+p99\s+{NUMBER} ms.*countdown edits \d+ sent, \d+ gave way")


def test_player_chat_beside_the_player_page():
    report = bench("player", "--pages", "5", "--max-workouts", "50", "--spread", "10")
    prints(report,
           r"^1\. Bot API calls for one workout",
           r"^\s+chat: .*min to the pain question",
           r"^\s+player: .*page API calls",
           r"^\s+chat / player: \d+x fewer platform calls per workout",
           r"^2\. The page's API over real HTTP: 5 workouts at once",
           r"^\s+\d+ requests \(\S+ per workout\), 0 refused",
           r"^3\. Workouts at once per token",
           r"^\s+chat, measured: \d+ at once",
           r"^targets, the pain answer counted \(.*\): met")  # virtual time: not the machine's
