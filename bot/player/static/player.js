/*
 * The workout player: runs one workout's timer in the browser and reports to the coach.
 *
 * Timing works like the coach's own timers (bot/timers.py): every phase ends at the previous
 * deadline plus its length, measured on performance.now(), so a late wake-up on a slow phone
 * never pushes the rest of the workout later. The plan's time_scale shortens every second.
 *
 * This file holds no words: everything shown or spoken comes from the plan the coach serves.
 * The page announces what it does as DOM events on `document` ("player:cue", "player:report",
 * "player:state"), for assistive add-ons and for the browser tests.
 */
"use strict";

(() => {
  const RESTING = new Set(["ready", "rest", "switch", "set_rest"]);
  const BEEP_FROM = 3;            // beep at 3, 2 and 1 seconds left
  const RETRY_MS = 3000;          // how often to try again while the coach is unreachable
  const VIBRATE_MS = 200;
  const SETTINGS_KEY = "backcoach.player.settings";
  const OUTBOX_KEY = "backcoach.player.outbox.";   // + workout id: reports not yet delivered
  const WARMED_KEY = "backcoach.player.warmed.";   // + workout id: its warm-up is behind
  const RING_LENGTH = 2 * Math.PI * 45;            // the ring's circumference in the SVG
  const PICTURE_API = "api/picture/";              // the coach's pictures: fetched signed in

  const byId = (id) => document.getElementById(id);
  const credential = readCredential();
  const settings = loadSettings();

  let plan = null;
  let audio = null;
  let wakeLock = null;
  let flushing = null;
  let retryTimer = 0;
  const pictures = new Map();  // our picture's path -> its blob: URL ("" until it arrives)
  let painNoted = "";       // the coach's words for the pain answered on this page
  let answeringPain = false;
  const run = {
    state: "idle",          // idle | running | finished | stopped | refused | rested
    warmup: false,          // running the warm-up's moves (nothing of it is reported)
    move: 0,                // the warm-up move, while warmup
    exercise: 0,
    phase: 0,
    deadline: 0,            // performance.now() at which the current phase ends
    paused: false,
    remaining: 0,           // ms left when paused
    beeped: BEEP_FROM + 1,  // the last whole second that beeped in this phase
    entered: [],            // phases begun (and the end reached) since the last announcement
    started: false,         // the person tapped Start: sound and voice are allowed from now
    quiet: false,           // back from the background: say only the latest cue
    timer: 0,
    frame: 0,
  };

  // -- start-up -------------------------------------------------------------------------------

  function readCredential() {
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    const launch = fragment.get("tgWebAppData");
    if (launch) return "tma " + launch;
    const token = fragment.get("token");
    return token ? "Bearer " + token : "";
  }

  function loadSettings() {
    const defaults = { voice: true, beeps: true, vibration: true, screen: true };
    try {
      const saved = JSON.parse(window.localStorage.getItem(SETTINGS_KEY) || "{}");
      for (const name of Object.keys(defaults)) {
        if (typeof saved[name] === "boolean") defaults[name] = saved[name];
      }
    } catch (error) {
      // unreadable settings: keep the defaults
    }
    return defaults;
  }

  async function load() {
    let answer;
    try {
      answer = await api("GET", "plan");
    } catch (error) {
      window.setTimeout(load, RETRY_MS);  // nothing to show yet but the loading screen
      return;
    }
    if (answer.status !== 200) {
      refuse(answer.data);
      return;
    }
    plan = answer.data;
    if (outbox().length) {
      await flush();
      if (run.state === "refused") return;
      if (!outbox().length) {
        load();  // the coach has every report now: its plan is the one to show
        return;
      }
      applyUndelivered();
    }
    setUpSwitches();
    if (nextExercise() === null) {
      finishWorkout("done");  // everything was reported before the page closed
      announce();
    } else if (plan.pain_before === null) {
      showPainQuestion();
    } else {
      showWelcome();
    }
  }

  /** "How is your back right now?" comes first, as in the chat: the coach's rule uses it. */
  function showPainQuestion() {
    setText("pain-question", plan.texts.pain_question);
    const scale = byId("pain-scale");
    scale.replaceChildren();
    for (let score = 0; score <= 10; score += 1) {
      const button = document.createElement("button");
      button.type = "button";
      button.id = "pain-" + score;
      button.textContent = String(score);
      button.addEventListener("click", () => answerPain(score));
      scale.append(button);
    }
    show("pain");
  }

  async function answerPain(score) {
    if (answeringPain) return;  // one answer, however many taps
    answeringPain = true;
    let answer;
    try {
      answer = await api("POST", "pain", { workout_id: plan.workout_id, score });
    } catch (error) {
      answer = { status: 0, data: null };
    }
    answeringPain = false;
    if (answer.status === 0 || answer.status === 429 || answer.status >= 500) {
      offline(true);  // nothing was kept: the same tap again, once the coach is back
      return;
    }
    offline(false);
    if (answer.status !== 200) {
      refuse(answer.data);
      return;
    }
    emit("pain", { score, go_on: answer.data.go_on });
    if (!answer.data.go_on) {  // not today: the coach closed the workout and says why
      run.state = "rested";
      setText("message-text", answer.data.message);
      show("message");
      emit("state", { state: run.state });
      return;
    }
    plan.pain_before = score;
    painNoted = answer.data.message;
    showWelcome();
  }

  /** Reports the coach has not had yet still count here, so nothing is done twice. */
  function applyUndelivered() {
    for (const item of outbox()) {
      if (item.path === "exercise") plan.exercises[item.body.index].outcome = item.body.outcome;
    }
  }

  function nextExercise() {
    const index = plan.exercises.findIndex((exercise) => exercise.outcome === null);
    return index < 0 ? null : index;
  }

  function showWelcome() {
    setText("pain-noted", painNoted);
    byId("pain-noted").hidden = !painNoted;
    setText("intro", plan.texts.intro);
    const list = byId("overview");
    list.replaceChildren();
    if (warmupDue()) {
      const item = document.createElement("li");
      item.textContent = plan.texts.warmup_item;
      item.className = "warmup";
      list.append(item);
    }
    for (const exercise of plan.exercises) {
      const item = document.createElement("li");
      item.textContent = exercise.name;
      if (exercise.outcome) item.className = exercise.outcome;
      list.append(item);
    }
    setText("start", plan.texts.start);
    for (const name of ["pause", "resume", "done", "add_time", "skip_rest", "skip", "stop"]) {
      setText(name, plan.texts[name]);
    }
    show("welcome");
  }

  function setUpSwitches() {
    for (const name of Object.keys(settings)) {
      const box = byId(name);
      box.checked = settings[name];
      setText(name + "-label", plan.texts[name]);
      box.addEventListener("change", () => {
        settings[name] = box.checked;
        window.localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
        if (name === "screen") keepAwake();
        if (name === "voice" && !box.checked && "speechSynthesis" in window) {
          window.speechSynthesis.cancel();
        }
      });
    }
  }

  // -- running --------------------------------------------------------------------------------

  function begin() {
    if (run.state !== "idle") return;  // a double tap starts one workout
    unlockAudio();
    run.started = true;
    run.state = "running";
    run.warmup = warmupDue();
    run.move = 0;
    run.exercise = nextExercise();
    run.phase = 0;
    enterPhase(performance.now());
    show("workout");
    keepAwake();
    emit("state", { state: run.state });
    update();
  }

  function msPerSecond() {
    return 1000 / plan.time_scale;
  }

  function currentExercise() {
    return run.warmup ? plan.warmup[run.move] : plan.exercises[run.exercise];
  }

  /** The warm-up opens a workout that has not begun; a reload after it does not repeat it. */
  function warmupDue() {
    return plan.warmup.length > 0 && nextExercise() === 0
      && window.localStorage.getItem(WARMED_KEY + plan.workout_id) === null;
  }

  function nextMove(start) {
    if (run.move + 1 < plan.warmup.length) {
      run.move += 1;
      run.phase = 0;
      enterPhase(start);
    } else {
      endWarmup(start);
    }
  }

  function endWarmup(start) {
    run.warmup = false;
    run.paused = false;
    window.localStorage.setItem(WARMED_KEY + plan.workout_id, "1");
    run.exercise = nextExercise();
    run.phase = 0;
    enterPhase(start);
  }

  function currentPhase() {
    return currentExercise().phases[run.phase];
  }

  function timed(phase) {
    return phase.kind !== "paced";
  }

  function enterPhase(start) {
    const phase = currentPhase();
    run.deadline = timed(phase) ? start + phase.seconds * msPerSecond() : Infinity;
    run.beeped = Math.min(BEEP_FROM + 1, phase.seconds);
    run.entered.push({ warmup: run.warmup, exercise: run.warmup ? run.move : run.exercise,
                       phase: run.phase });
  }

  /** The phase after this one starts at `start` (the planned deadline, or now after a tap). */
  function moveOn(start) {
    if (run.phase + 1 < currentExercise().phases.length) {
      run.phase += 1;
      enterPhase(start);
    } else if (run.warmup) {
      nextMove(start);
    } else {
      finishExercise("done", start);
    }
  }

  function finishExercise(outcome, start) {
    const index = run.exercise;
    plan.exercises[index].outcome = outcome;
    send("exercise", { workout_id: plan.workout_id, index, outcome });
    run.paused = false;
    if (nextExercise() === null) {
      finishWorkout("done");
      return;
    }
    run.exercise = nextExercise();
    run.phase = 0;
    enterPhase(start);
  }

  function finishWorkout(outcome) {
    run.state = outcome === "done" ? "finished" : "stopped";
    window.localStorage.removeItem(WARMED_KEY + plan.workout_id);
    for (const source of pictures.values()) if (source) URL.revokeObjectURL(source);
    pictures.clear();
    window.clearTimeout(run.timer);
    window.cancelAnimationFrame(run.frame);
    send("end", { workout_id: plan.workout_id, outcome });
    run.entered.push({ end: outcome });
  }

  /** Catch up with the clock: every phase whose deadline has passed ends, in order. */
  function advance(now) {
    while (run.state === "running" && !run.paused) {
      if (!timed(currentPhase()) || now < run.deadline) break;
      moveOn(run.deadline);
    }
  }

  /** Everything after a wake-up or a tap: catch up, say what began, then show and re-arm. */
  function update() {
    const now = performance.now();
    advance(now);
    announce();
    if (run.state !== "running") return;
    countdownBeep(now);
    render(now);
    wakeAtNextEvent(now);
  }

  function wakeAtNextEvent(now) {
    window.clearTimeout(run.timer);
    window.cancelAnimationFrame(run.frame);
    if (run.paused || !timed(currentPhase())) return;
    let next = run.deadline;
    if (run.beeped > 1) next = Math.min(next, run.deadline - (run.beeped - 1) * msPerSecond());
    run.timer = window.setTimeout(update, Math.max(0, next - now));
    run.frame = window.requestAnimationFrame(frame);
  }

  function frame(now) {
    if (run.state !== "running" || run.paused) return;
    render(now);
    run.frame = window.requestAnimationFrame(frame);
  }

  // -- the person's controls ------------------------------------------------------------------

  const controls = {
    pause() {
      if (run.paused || !timed(currentPhase())) return;
      run.remaining = Math.max(0, run.deadline - performance.now());
      run.paused = true;
    },
    resume() {
      if (!run.paused) return;
      run.deadline = performance.now() + run.remaining;
      run.paused = false;
    },
    add_time() {
      if (!timed(currentPhase())) return;
      const extra = plan.add_seconds * msPerSecond();
      if (run.paused) run.remaining += extra;
      else run.deadline += extra;
      run.beeped = BEEP_FROM + 1;
    },
    skip_rest() {
      if (!RESTING.has(currentPhase().kind)) return;
      run.paused = false;
      run.deadline = performance.now();
    },
    done() {
      if (timed(currentPhase())) return;
      moveOn(performance.now());
    },
    skip() {
      if (run.warmup) endWarmup(performance.now());  // "Skip warm-up": on to the exercises
      else finishExercise("skipped", performance.now());
    },
    stop() {
      finishWorkout("stopped");
    },
  };

  function control(name) {
    if (run.state !== "running") return;
    controls[name]();
    update();
  }

  // -- what the person sees and hears ---------------------------------------------------------

  function announce() {
    const entered = run.entered;
    run.entered = [];
    entered.forEach((where, position) => {
      if (where.end) {
        announceEnd(where.end);
        return;
      }
      const phase = (where.warmup ? plan.warmup : plan.exercises)[where.exercise].phases[where.phase];
      const latest = position === entered.length - 1;
      if (!run.quiet || latest) speak(phase.cue);
      if (latest) {
        setText("cue", phase.cue);
        vibrate();
        tone(990, 0.25);
      }
      emit("cue", { warmup: where.warmup, exercise: where.exercise, phase: where.phase,
                    kind: phase.kind, text: phase.cue });
    });
    run.quiet = false;
  }

  function announceEnd(outcome) {
    const words = outcome === "done" ? plan.texts.finished : plan.texts.stopped;
    if ("speechSynthesis" in window) window.speechSynthesis.cancel();
    if (outcome === "done") speak(words);
    setText("end-text", words);
    show("end");
    keepAwake();
    emit("cue", { kind: "end", outcome, text: words });
    emit("state", { state: run.state });
  }

  function render(now) {
    const exercise = currentExercise();
    const phase = currentPhase();
    setText("heading", exercise.heading);
    setText("name", exercise.name);
    setText("stage", exercise.stage);
    showPicture(exercise);
    setText("phase", phase.label);
    setText("detail", phase.detail);
    setText("next", phase.next);
    const screen = byId("workout");
    screen.dataset.kind = phase.kind;
    screen.dataset.paused = String(run.paused);
    byId("paused").hidden = !run.paused;
    setText("paused", plan.texts.paused);
    let fraction = 1;
    if (timed(phase)) {
      const left = Math.max(0, run.paused ? run.remaining : run.deadline - now) / msPerSecond();
      setText("count", String(Math.ceil(left - 1e-6)));
      fraction = phase.seconds ? Math.min(1, left / phase.seconds) : 0;
    } else {
      setText("count", "");
    }
    byId("ring").setAttribute("stroke-dashoffset", String(RING_LENGTH * (1 - fraction)));
    showControls(phase);
  }

  function showControls(phase) {
    const isTimed = timed(phase);
    byId("pause").hidden = !isTimed || run.paused;
    byId("resume").hidden = !isTimed || !run.paused;
    byId("done").hidden = isTimed;
    byId("add_time").hidden = !isTimed;
    byId("skip_rest").hidden = !RESTING.has(phase.kind);
    setText("skip", run.warmup ? plan.texts.skip_warmup : plan.texts.skip);
  }

  /** The exercise's animation: the coach's pictures (api/picture/...) are fetched with the
   * page's credential (an <img> cannot send it) and shown from memory; others are linked. */
  function showPicture(exercise) {
    const frame = byId("picture-frame");
    const picture = byId("picture");
    const shown = exercise.picture ? pictureSource(exercise.picture) : "";
    frame.hidden = !shown;
    byId("workout").dataset.picture = String(Boolean(shown));
    if (shown && picture.getAttribute("src") !== shown) {
      picture.setAttribute("src", shown);
      picture.setAttribute("alt", exercise.name);
    }
    const following = plan.exercises[run.warmup ? run.exercise : run.exercise + 1];
    if (following && following.picture) pictureSource(following.picture);  // ready in time
  }

  function pictureSource(url) {
    if (!url.startsWith(PICTURE_API)) return url;  // the credential goes to the coach only
    if (!pictures.has(url)) {
      pictures.set(url, "");  // loading (or failed): the timer and the words carry on without
      loadPicture(url);
    }
    return pictures.get(url);
  }

  async function loadPicture(url) {
    try {
      const response = await fetch(url, {
        headers: { "Authorization": credential }, credentials: "omit", cache: "default" });
      if (response.ok) {
        pictures.set(url, URL.createObjectURL(await response.blob()));
        emit("picture", { url });
        if (run.state === "running") render(performance.now());
        return;
      }
      if (response.status === 429 || response.status >= 500) retryPicture(url);
    } catch (error) {
      retryPicture(url);  // offline for a moment: the timer and the words carry on meanwhile
    }
  }

  function retryPicture(url) {
    window.setTimeout(() => pictures.delete(url), RETRY_MS);  // asked again at the next render
  }

  function show(screenId) {
    for (const id of ["loading", "message", "pain", "welcome", "workout", "end"]) {
      byId(id).hidden = id !== screenId;
    }
    byId("switches").hidden = !plan || !["welcome", "workout"].includes(screenId);
  }

  function setText(id, text) {
    const element = byId(id);
    if (element.textContent !== text) element.textContent = text;
  }

  function refuse(data) {
    run.state = "refused";
    window.clearTimeout(run.timer);
    setText("message-text", (data && data.message) || "");
    show("message");
    keepAwake();
    emit("state", { state: run.state, error: data && data.error });
  }

  // -- sound, voice, vibration, screen --------------------------------------------------------

  function unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || audio) return;
    try {
      audio = new Context();
      audio.resume().catch(() => {});
    } catch (error) {
      audio = null;
    }
  }

  /** A short beep through Web Audio; false when beeps are off or the browser has no audio. */
  function tone(frequency, seconds) {
    if (!settings.beeps || !audio) return false;
    const start = audio.currentTime;
    const oscillator = audio.createOscillator();
    const volume = audio.createGain();
    oscillator.frequency.value = frequency;
    volume.gain.setValueAtTime(0.0001, start);
    volume.gain.exponentialRampToValueAtTime(0.4, start + 0.01);
    volume.gain.exponentialRampToValueAtTime(0.0001, start + seconds);
    oscillator.connect(volume).connect(audio.destination);
    oscillator.start(start);
    oscillator.stop(start + seconds + 0.02);
    return true;
  }

  function countdownBeep(now) {
    if (run.paused || !timed(currentPhase())) return;
    const left = (run.deadline - now) / msPerSecond();
    const second = Math.ceil(left);
    if (left > 0 && second < run.beeped) {
      run.beeped = second;
      if (tone(660, 0.12)) emit("beep", { seconds: second });
    }
  }

  function speak(text) {
    if (!settings.voice || !run.started || !("speechSynthesis" in window)) return;
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = plan.language;
    const primary = plan.language.split("-")[0];
    const voice = window.speechSynthesis.getVoices().find((v) => v.lang === plan.language)
      || window.speechSynthesis.getVoices().find((v) => v.lang.split("-")[0] === primary);
    if (voice) utterance.voice = voice;
    window.speechSynthesis.speak(utterance);
  }

  function vibrate() {
    if (settings.vibration && run.started && typeof navigator.vibrate === "function") {
      navigator.vibrate(VIBRATE_MS);
    }
  }

  async function keepAwake() {
    const wanted = settings.screen && run.state === "running" && document.visibilityState === "visible";
    if (!wanted) {
      if (wakeLock) wakeLock.release().catch(() => {});
      wakeLock = null;
      return;
    }
    if (wakeLock || !("wakeLock" in navigator)) return;
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      wakeLock.addEventListener("release", () => { wakeLock = null; });
    } catch (error) {
      wakeLock = null;  // not allowed here (battery saver, an old browser): the timer still runs
    }
  }

  // -- talking to the coach -------------------------------------------------------------------

  async function api(method, path, body) {
    const response = await fetch("api/" + path, {
      method,
      headers: { "Authorization": credential, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    return { status: response.status, data };
  }

  function outbox() {
    try {
      return JSON.parse(window.localStorage.getItem(OUTBOX_KEY + plan.workout_id) || "[]");
    } catch (error) {
      return [];
    }
  }

  function saveOutbox(items) {
    const key = OUTBOX_KEY + plan.workout_id;
    if (items.length) window.localStorage.setItem(key, JSON.stringify(items));
    else window.localStorage.removeItem(key);
  }

  /** Reports wait in localStorage until the coach has them, so a closed tab loses nothing. */
  function send(path, body) {
    saveOutbox(outbox().concat([{ path, body }]));
    flush();
  }

  function flush() {
    if (!flushing) flushing = deliver().finally(() => { flushing = null; });
    return flushing;
  }

  async function deliver() {
    for (let items = outbox(); items.length; items = outbox()) {
      const item = items[0];
      let answer;
      try {
        answer = await api("POST", item.path, item.body);
      } catch (error) {
        answer = { status: 0, data: null };
      }
      if (answer.status === 0 || answer.status === 429 || answer.status >= 500) {
        offline(true);
        window.clearTimeout(retryTimer);
        retryTimer = window.setTimeout(flush, RETRY_MS);
        return;
      }
      offline(false);
      saveOutbox(outbox().slice(1));
      emit("report", { path: item.path, body: item.body, status: answer.status });
      if (answer.status === 401 || answer.status === 409) {
        refuse(answer.data);  // the link expired, or the workout moved on without this page
        saveOutbox([]);
        return;
      }
    }
  }

  function offline(unreachable) {
    setText("offline", unreachable ? plan.texts.offline : "");
    byId("offline").hidden = !unreachable;
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent("player:" + name, { detail }));
  }

  // -- wiring ---------------------------------------------------------------------------------

  byId("start").addEventListener("click", begin);
  for (const name of Object.keys(controls)) {
    byId(name).addEventListener("click", () => control(name));
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    run.quiet = true;  // phases that ended in the background are shown, not all spoken
    keepAwake();
    if (run.state === "running") update();
  });
  load();
})();
