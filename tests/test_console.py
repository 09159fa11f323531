"""The terminal coach as a newcomer meets it: `python bot.py` with piped input, then export."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import scripts

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "\n".join([
    # the shared onboarding script, typed: "Got it" by its number, the answers in words
    *scripts.typed(scripts.onboarding(hamstring="Couldn't reach it", time="7:30am"),
                   {"Got it, let's go": "1", "No": "no"}),
    "start session",
    "done", "done", "done", "done",  # squat and hip hinge sets
    "2",                      # pain after
    "progress",
]) + "\n"


def run_bot(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "bot.py", *args], cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=120, env={**os.environ, **(env or {})})


def test_scripted_newcomer_completes_a_workout_and_export_shows_it(tmp_path):
    db = tmp_path / "coach.db"
    files = tmp_path / "files"
    result = run_bot("console", "--db", str(db), "--time-scale", "300", "--files", str(files),
                     stdin=SCRIPT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    for n in range(1, 8):
        assert f"{n}/7 · " in out
    assert "Hold 10 s · " in out and "rep 10/10" in out and "Rest 3 s" in out
    assert "That's all seven" in out
    assert "Noted: pain 2/10." in out
    assert "Your progress: 1 workouts in all" in out
    # The chart is saved as a PNG and its path printed, under a one-line text sparkline.
    chart = files / "progress.png"
    assert "Pain after workouts, last 2 weeks: ▂ (2/10)" in out
    assert f"[progress.png saved to {chart}]" in out
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    export = run_bot("export", "--db", str(db))
    assert export.returncode == 0, export.stderr
    people = json.loads(export.stdout)
    assert len(people) == 1
    person = people[0]
    assert person["user"] == {"platform": "console", "id": "me"}
    assert len(person["workouts"]) == 1 and person["workouts"][0]["status"] == "done"
    assert [(p["score"], p["kind"]) for p in person["pain_reports"]] == [(2, "after")]
    assert set(person["stages"]) == {"hip_flexor_stretch", "hamstring_stretch", "side_plank",
                                     "dead_bug", "bird_dog", "squat", "hip_hinge"}
    assert person["profile"]["hamstring"] == "tight"
    assert person["profile"]["timezone"] == "Europe/Berlin"


def test_end_of_input_mid_workout_stops_cleanly_and_keeps_what_was_done(tmp_path):
    db = tmp_path / "coach.db"
    script = "\n".join(["1", *["no"] * 11, "3", "1", "07:30", "UTC", "start session"]) + "\n"
    result = run_bot("console", "--db", str(db), "--time-scale", "500", stdin=script)
    assert result.returncode == 0, result.stderr
    assert "Workout stopped" in result.stdout  # the squat set waited for "done" that never came
    person = json.loads(run_bot("export", "--db", str(db)).stdout)[0]
    done = [e["exercise_id"] for e in person["workouts"][0]["exercises"]]
    assert done == ["hip_flexor_stretch", "hamstring_stretch", "side_plank", "dead_bug",
                    "bird_dog"]


def test_a_broken_content_file_gives_a_clear_start_up_error(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    exercises = content / "exercises.toml"
    exercises.write_text(exercises.read_text().replace("work_s = 10\n", "work_s = -10\n", 1))
    result = run_bot("console", "--db", str(tmp_path / "x.db"),
                     env={"BACKCOACH_CONTENT": str(content)})
    assert result.returncode == 2
    assert "exercises.toml" in result.stderr and "side_plank" in result.stderr
    assert "work_s" in result.stderr
    assert "Traceback" not in result.stderr


async def test_the_players_address_stands_on_its_own_line_and_choosing_it_opens_a_browser(
        tmp_path, monkeypatch):
    from adapters import console
    from bot.bootstrap import build
    from bot.events import Picked
    from bot.replies import Choice, Reply

    opened: list[str] = []
    monkeypatch.setattr(console.webbrowser, "open", opened.append)
    monkeypatch.setattr(console, "_has_a_browser", lambda: True)
    out = io.StringIO()
    coach = build(tmp_path / "coach.db")
    terminal = console.ConsoleAdapter(coach, stdin=io.StringIO(""), stdout=out, player=True)
    link = Choice("Open the player", url="http://127.0.0.1:8088/player/#token=v1.abc.def",
                  web_app=True)
    offer = Reply("Do it in the player, or here?", (link, Choice("Guide me here in chat", "in_chat")))
    await terminal.send(terminal.key, offer, None)
    assert out.getvalue().splitlines()[-3:] == [
        "  1) Open the player", link.url, "  2) Guide me here in chat"]

    assert terminal.event_for("2") == Picked(terminal.key, "in_chat")
    chosen = terminal.event_for("1")
    assert chosen == link == terminal.event_for("open the player")  # not sent to the coach
    await terminal.open_link(chosen)
    assert out.getvalue().splitlines()[-1] == link.url and opened == [link.url]

    terminal.open_browser = False  # --no-browser (and every test of the whole process)
    await terminal.open_link(chosen)
    assert opened == [link.url] and out.getvalue().splitlines()[-1] == link.url
    coach.close()
