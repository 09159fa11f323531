"""The terminal coach as a newcomer meets it: `python bot.py` with piped input, then export."""
from __future__ import annotations

import io
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import scripts
from bot.content import load_programme

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "\n".join([
    # the shared onboarding script, typed: "Got it" by its number, the answers in words
    *scripts.typed(scripts.onboarding(hamstring="Couldn't reach it", time="7:30am"),
                   {"Got it, let's go": "1", "No": "no"}),
    *scripts.typed(scripts.session(before=3)),  # "start session", then the pain right now
    "done", "done", "done", "done",  # squat and hip hinge sets
    "2",                      # pain after
    "progress",
]) + "\n"


def run_bot(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "bot.py", *args], cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=120, env={**os.environ, **(env or {})})


def test_scripted_newcomer_completes_a_workout_and_export_shows_it(tmp_path, drawn_pictures):
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
    assert "Noted: pain 2/10, down from 3 before the workout." in out
    assert "Your progress: 1 workout in all" in out
    # The chart is saved as a PNG and its path printed, under a one-line text sparkline.
    chart = files / "progress.png"
    assert "Pain after workouts, last 2 weeks: ▂ (2/10)" in out
    assert f"[progress.png saved to {chart}]" in out
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # Each exercise's animation is saved beside it, named under its card with what it shows.
    programme = load_programme(ROOT / "content")
    for exercise in programme.exercises:
        stage = exercise.stages[0]
        picture = files / f"{exercise.id}-{stage.id}.gif"
        assert f'[{exercise.name}, "{stage.name}": moving picture saved to {picture}]' in out
        assert picture.read_bytes().startswith(b"GIF89a")
    assert len(list(files.glob("*.gif"))) == 7
    assert out.count("How:") == 7  # the first time: every step, unasked

    export = run_bot("export", "--db", str(db))
    assert export.returncode == 0, export.stderr
    people = json.loads(export.stdout)
    assert len(people) == 1
    person = people[0]
    assert person["user"] == {"platform": "console", "id": "me"}
    assert len(person["workouts"]) == 1 and person["workouts"][0]["status"] == "done"
    assert [(p["score"], p["kind"]) for p in person["pain_reports"]] == [(3, "before"),
                                                                         (2, "after")]
    assert set(person["stages"]) == {"hip_flexor_stretch", "hamstring_stretch", "side_plank",
                                     "dead_bug", "bird_dog", "squat", "hip_hinge"}
    assert person["profile"]["hamstring"] == "tight"
    assert person["profile"]["timezone"] == "Europe/Berlin"


# The shared onboarding script, typed: "Got it" and the hamstring answer by their numbers.
ONBOARDING = scripts.typed(scripts.onboarding(time="07:30", zone="UTC"),
                           {"Got it, let's go": "1", "No": "no", "Reached it easily": "1"})


def test_end_of_input_mid_workout_keeps_it_for_the_next_start(tmp_path):
    """Piped input reaches its end at the squat's first set (its "done" never comes): the
    coach says the workout is kept, exits cleanly, and offers it again at the next start."""
    db = tmp_path / "coach.db"
    result = run_bot("console", "--db", str(db), "--time-scale", "500",
                     stdin="\n".join([*ONBOARDING, *scripts.typed(scripts.session())]) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Your workout is saved" in result.stdout
    assert "Workout stopped" not in result.stdout
    person = json.loads(run_bot("export", "--db", str(db)).stdout)[0]
    workout = person["workouts"][0]
    assert workout["status"] == "interrupted"
    assert [e["exercise_id"] for e in workout["exercises"]] == [
        "hip_flexor_stretch", "hamstring_stretch", "side_plank", "dead_bug", "bird_dog"]

    again = run_bot("console", "--db", str(db), "--time-scale", "500",
                    stdin="\n".join(["1", "done", "done", "done", "done", "2"]) + "\n")
    assert again.returncode == 0, again.stderr
    assert "Your last workout was interrupted during Squat" in again.stdout
    assert "1/7 · " not in again.stdout  # the finished exercises are not run again
    assert "That's all seven" in again.stdout
    workout = json.loads(run_bot("export", "--db", str(db)).stdout)[0]["workouts"][0]
    assert workout["status"] == "done" and len(workout["exercises"]) == 7


def test_quit_mid_workout_leaves_at_once_and_keeps_the_workout(tmp_path):
    db = tmp_path / "coach.db"
    script = [*ONBOARDING, *scripts.typed(scripts.session()), "done", "quit", "progress"]
    result = run_bot("console", "--db", str(db), "--time-scale", "500",
                     stdin="\n".join(script) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you> quit\nBye for now. Your workout is saved" in out
    assert "Your progress" not in out  # nothing after "quit" is read
    workout = json.loads(run_bot("export", "--db", str(db)).stdout)[0]["workouts"][0]
    assert workout["status"] == "interrupted"
    assert workout["position"]["exercise"] == 5  # the squat, which starts again next time


def test_piped_lines_follow_a_prompt_and_the_terminal_never_speaks_of_tapping(tmp_path):
    result = run_bot("console", "--db", str(tmp_path / "coach.db"), "--time-scale", "500",
                     stdin="\n".join([*ONBOARDING, *scripts.typed(scripts.session()), "done", "done", "done",
                                      "done", "2", "help", "exit"]) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in ("start session", "done", "2", "help", "exit"):
        assert f"you> {line}\n" in out
    assert not TAPPING.search(out), TAPPING.search(out)


# Words for pressing buttons ("tap a button", 'tap "Re-take the check"'), not a foot that taps.
TAPPING = re.compile(r'.*\btap(ping)? (a |the |one of|it\b|")', re.IGNORECASE)


def test_no_text_the_terminal_may_show_speaks_of_tapping():
    """Every sentence outside the Discord-only and browser-player sections."""
    texts = tomllib.loads((ROOT / "content" / "texts.toml").read_text(encoding="utf-8"))
    for section, table in texts.items():
        if section in ("discord", "player"):
            continue
        for key, text in table.items():
            assert not re.search(r"\btap(ping)?\b", text, re.IGNORECASE), f"{section}.{key}"


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


def test_a_pose_that_cannot_be_drawn_stops_start_up_naming_where_it_is(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    poses = content / "poses.toml"
    text = poses.read_text()
    start = text.index('id = "single_leg"\n')  # the single-leg squat's own bottom pose
    knee = text.index("near_knee = ", start)
    end = text.index("\n", knee)
    poses.write_text(text[:knee] + "near_knee = 175" + text[end:])  # beyond a human knee
    result = run_bot("console", "--db", str(tmp_path / "x.db"),
                     env={"BACKCOACH_CONTENT": str(content)})
    assert result.returncode == 2
    line, = result.stderr.strip().splitlines()
    assert line.startswith("Cannot start: ") and "poses.toml" in line
    assert "exercise 'squat'" in line and "stage 'single_leg'" in line and "near_knee" in line


class Terminal:
    """`python bot.py console` in a pseudo-terminal, as a person at a real terminal runs it:
    both ends are ttys, so it prompts, counts down in place and reads lines as they are typed."""

    def __init__(self, db: Path, scale: int = 300) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "bot.py", "console", "--db", str(db), "--time-scale", str(scale)],
            cwd=ROOT, stdin=slave, stdout=slave, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        os.close(slave)
        self.output = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # the other end has closed
                return
            if not chunk:
                return
            self.output += chunk.decode("utf-8", "replace")

    def types(self, text: str) -> None:
        os.write(self.master, text.encode())

    def waits_for(self, pattern: str, start: int = 0) -> int:
        """Where in the output `pattern` (a regular expression) first matches after `start`;
        bounded by a timeout only a hung process reaches."""
        end = time.monotonic() + 60
        while time.monotonic() < end:
            found = re.compile(pattern).search(self.output, start)
            if found:
                return found.end()
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(f"{pattern!r} never came; output ends: {self.output[-300:]!r}")

    def ends(self) -> int:
        code = self.proc.wait(timeout=60)
        self._reader.join(timeout=5)
        os.close(self.master)
        return code


def test_a_terminal_prompts_when_it_is_your_turn_and_ctrl_d_keeps_the_workout(tmp_path):
    db = tmp_path / "coach.db"
    assert run_bot("console", "--db", str(db), "--time-scale", "300",
                   stdin="\n".join(ONBOARDING) + "\n").returncode == 0
    term = Terminal(db)
    at = term.waits_for(r"3\) Help\r?\nyou> ")  # the menu, then the prompt
    term.types("start session\n")
    at = term.waits_for(r"how is your back right now", at)  # first, the pain right now
    at = term.waits_for(r"you> ", at)
    term.types("3\n")
    at = term.waits_for(r"It starts by itself in \d+ s\.(\r?\n  \d\) .*)+\r?\nyou> ", at)
    term.types("ready\n")
    at = term.waits_for(r"Warm-up 1/4", at)
    done = term.waits_for(r"Warm-up done", at)
    assert "you> " not in term.output[at:done]  # no prompt while the timers run
    card = term.waits_for(r"1/7 · Half-kneeling hip flexor stretch", done)
    term.waits_for(r"you> ", card)  # its card waits for "ready": the person's turn again
    term.types("\x04")  # Ctrl-D
    assert term.ends() == 0, term.proc.stderr.read().decode()
    assert "Your workout is saved" in term.output
    assert not TAPPING.search(term.output)
    workout = json.loads(run_bot("export", "--db", str(db)).stdout)[0]["workouts"][0]
    assert workout["status"] == "interrupted"

    later = run_bot("console", "--db", str(db), "--time-scale", "300", stdin="2\n4\n")
    assert "Your last workout was interrupted during Half-kneeling hip flexor stretch" \
        in later.stdout
    assert "Noted: pain 4/10" in later.stdout  # "finish now", then the pain answer


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
