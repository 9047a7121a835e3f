// buildgraph's live page: the graph Graphviz drew, coloured by the server-sent events of
// the run, and the selected target's facts and log. Every name, step and log line is set
// with textContent, never parsed as HTML; the page runs no other script (its
// Content-Security-Policy allows this file only).
"use strict";

(() => {
  const LOG_LINES = 5000; // as the server's board keeps
  const READY = new Set(["done", "reused", "unneeded"]);
  const ORDER = ["building", "waiting", "failed", "cancelled", "skipped", "done", "reused",
    "unneeded", "idle"];
  const $ = (id) => document.getElementById(id);

  const views = new Map(); // name -> the target's view, as the server sent it
  const elements = new Map(); // name -> its node on the graph (or item of the list)
  let mode = "build";
  let generation; // of the picture shown; null: no picture, the list
  let skew = 0; // this clock minus the server's, in seconds
  let loaded = null; // the picture's generation being fetched
  let selected = null; // {name, started, fetching, pending: [], seq}

  // The stream ----------------------------------------------------------------------

  function connect() {
    const source = new EventSource("events");
    source.addEventListener("open", () => setConnection("live", "live"));
    source.addEventListener("error", () => setConnection("lost", "reconnecting"));
    source.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
    source.addEventListener("target", (e) => onView(JSON.parse(e.data)));
    source.addEventListener("log", (e) => onLine(JSON.parse(e.data)));
    source.addEventListener("note", (e) => addNote(JSON.parse(e.data)));
  }

  function setConnection(state, text) {
    const el = $("connection");
    el.dataset.state = state;
    el.textContent = text;
  }

  function onSnapshot(snapshot) {
    mode = snapshot.mode;
    skew = Date.now() / 1000 - snapshot.now;
    $("mode").textContent = mode === "watch" ? "watch" : "build";
    const before = [...views.keys()].join("\n");
    views.clear();
    for (const view of snapshot.targets) views.set(view.name, view);
    $("notes").replaceChildren();
    for (const note of snapshot.notes) addNote(note);
    const changed = before !== [...views.keys()].join("\n");
    if (snapshot.picture !== generation || (snapshot.picture === null && changed)) {
      generation = snapshot.picture;
      if (generation === null) showList();
      else loadPicture(generation);
    } else {
      paintAll();
    }
    if (selected !== null) {
      if (views.has(selected.name)) select(selected.name);
      else closeDetails();
    }
    counts();
  }

  function onView(view) {
    if (!views.has(view.name)) return;
    views.set(view.name, view);
    paint(view.name);
    counts();
    if (selected !== null && selected.name === view.name) {
      if (view.started !== null && view.started !== selected.started) {
        if (selected.fetching) selected.pending.push({ restart: view.started, seq: view.seq });
        else restartLog(view.started);
      }
      showFacts();
    }
    // A dependent's "waiting on" changes with this one.
    if (selected !== null && views.get(selected.name)?.needs.includes(view.name)) showFacts();
  }

  function onLine(message) {
    if (selected === null || message.target !== selected.name) return;
    if (selected.fetching) selected.pending.push(message);
    else if (message.seq > selected.seq) appendLines([message.line]);
  }

  // The picture, or the list ----------------------------------------------------------

  async function loadPicture(wanted) {
    loaded = wanted;
    let text;
    try {
      const answer = await fetch(`picture?g=${wanted}`, { cache: "no-store" });
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      text = await answer.text();
    } catch (error) {
      if (loaded === wanted) showList(`The graph's picture could not be loaded (${error.message}).`);
      return;
    }
    if (loaded !== wanted) return; // a newer plan's picture is on its way
    const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = parsed.documentElement;
    if (svg.nodeName !== "svg" || parsed.getElementsByTagName("parsererror").length) {
      showList("The graph's picture could not be read.");
      return;
    }
    cleanse(svg);
    const shown = document.importNode(svg, true);
    shown.removeAttribute("width");
    shown.removeAttribute("height");
    shown.setAttribute("role", "img");
    elements.clear();
    for (const node of shown.querySelectorAll("g.node")) {
      const title = node.querySelector("title");
      const name = title ? title.textContent : "";
      if (!views.has(name)) continue;
      node.dataset.target = name;
      node.setAttribute("tabindex", "0");
      node.setAttribute("role", "button");
      elements.set(name, node);
    }
    const box = shown.viewBox.baseVal;
    if (box && box.width) {
      // At its own size unless fitted; dot's points are CSS pixels at 96/72.
      shown.style.width = `${box.width * 4 / 3}px`;
      shown.style.height = `${box.height * 4 / 3}px`;
    }
    $("graph").replaceChildren(shown);
    paintAll();
    ready();
  }

  // Graphviz draws no script, but the page never trusts a picture to: no script, no
  // foreign content, no event handler, no link survives.
  function cleanse(root) {
    for (const el of [...root.querySelectorAll("script, foreignObject, iframe, object, embed")]) {
      el.remove();
    }
    for (const el of [root, ...root.querySelectorAll("*")]) {
      for (const attribute of [...el.attributes]) {
        const name = attribute.name.toLowerCase();
        if (name.startsWith("on") || name === "href" || name === "xlink:href" || name === "style") {
          el.removeAttribute(attribute.name);
        }
      }
    }
  }

  function showList(why) {
    loaded = null;
    const note = document.createElement("p");
    note.className = "nograph";
    note.textContent = why || "No picture of the graph (Graphviz's dot draws it: install"
      + " graphviz for the graph); the targets by wave.";
    const waves = new Map();
    for (const view of views.values()) {
      if (!waves.has(view.wave)) waves.set(view.wave, []);
      waves.get(view.wave).push(view.name);
    }
    const all = document.createElement("div");
    all.className = "waves";
    elements.clear();
    for (const wave of [...waves.keys()].sort((a, b) => a - b)) {
      const section = document.createElement("section");
      section.className = "wave";
      const heading = document.createElement("h3");
      heading.textContent = `wave ${wave}`;
      const list = document.createElement("ul");
      for (const name of waves.get(wave)) {
        const item = document.createElement("li");
        item.textContent = name;
        item.dataset.target = name;
        item.setAttribute("tabindex", "0");
        item.setAttribute("role", "button");
        list.append(item);
        elements.set(name, item);
      }
      section.append(heading, list);
      all.append(section);
    }
    $("graph").replaceChildren(note, all);
    paintAll();
    ready();
  }

  function ready() {
    // For tests and the benchmark: drawn and painted, this long after navigation began.
    if (!document.body.dataset.ready) document.body.dataset.readyMs = String(Math.round(performance.now()));
    document.body.dataset.ready = "true";
  }

  function paintAll() {
    for (const name of elements.keys()) paint(name);
  }

  function paint(name) {
    const el = elements.get(name);
    const view = views.get(name);
    if (!el || !view) return;
    el.dataset.state = view.state;
    el.dataset.cached = view.cached ? "true" : "false";
    el.setAttribute("aria-label", `${name}: ${stateText(view)}`);
    const title = el.querySelector("title");
    if (title) title.textContent = `${name}: ${stateText(view)}`;
  }

  function counts() {
    const tally = new Map();
    for (const view of views.values()) tally.set(view.state, (tally.get(view.state) || 0) + 1);
    const parts = ORDER.filter((s) => tally.has(s)).map((s) => `${tally.get(s)} ${s}`);
    $("counts").textContent = `${views.size} target(s): ${parts.join(", ")}`;
  }

  function stateText(view) {
    if (view.state === "building" && view.step) return `building ${view.step}`;
    if (view.cached) return "done (every step cached)";
    return view.state;
  }

  // The selected target --------------------------------------------------------------

  function select(name) {
    const previous = selected ? elements.get(selected.name) : null;
    if (previous) previous.removeAttribute("aria-selected");
    const view = views.get(name);
    if (!view) return;
    const el = elements.get(name);
    if (el) el.setAttribute("aria-selected", "true");
    selected = { name, started: view.started, fetching: true, pending: [], seq: 0 };
    $("details").hidden = false;
    $("d-name").textContent = name;
    $("d-answer").hidden = true;
    $("d-rebuild").hidden = mode !== "watch";
    $("d-log").replaceChildren();
    $("d-log").dataset.loaded = "false";
    $("d-log-count").textContent = "";
    following = true;
    showFacts();
    fetchLog(selected);
  }

  function closeDetails() {
    const el = selected ? elements.get(selected.name) : null;
    if (el) el.removeAttribute("aria-selected");
    selected = null;
    $("details").hidden = true;
  }

  async function fetchLog(wanted) {
    let log;
    try {
      const answer = await fetch(`log?target=${encodeURIComponent(wanted.name)}`, { cache: "no-store" });
      log = answer.ok ? await answer.json() : { lines: [], seq: 0, started: wanted.started };
    } catch {
      log = { lines: [], seq: 0, started: wanted.started };
    }
    if (selected !== wanted) return; // another target was selected meanwhile
    selected.seq = log.seq;
    selected.started = log.started;
    selected.fetching = false;
    $("d-log").replaceChildren();
    appendLines(log.lines);
    for (const message of selected.pending) {
      if (message.seq <= log.seq) continue;
      if (message.restart !== undefined) restartLog(message.restart);
      else appendLines([message.line]);
    }
    selected.pending = [];
    $("d-log").dataset.loaded = "true"; // the lines so far are shown; new ones follow
  }

  function restartLog(started) {
    selected.started = started;
    $("d-log").replaceChildren();
    $("d-log-count").textContent = "";
  }

  // The log follows its end unless scrolled up (and again once scrolled back down).
  let following = true;

  function followLog() {
    const log = $("d-log");
    if (following) log.scrollTop = log.scrollHeight;
  }

  function appendLines(lines) {
    if (!lines.length) return;
    const log = $("d-log");
    const more = document.createDocumentFragment();
    for (const line of lines) {
      const row = document.createElement("div");
      row.textContent = line; // text, whatever the line holds
      more.append(row);
    }
    log.append(more);
    while (log.childElementCount > LOG_LINES) log.firstElementChild.remove();
    $("d-log-count").textContent = `(${log.childElementCount} line(s))`;
    followLog();
  }

  function showFacts() {
    const view = selected && views.get(selected.name);
    if (!view) return;
    const badge = $("d-state");
    badge.dataset.state = view.state;
    badge.dataset.cached = view.cached ? "true" : "false";
    badge.textContent = view.cached ? "done, cached" : view.state;
    const facts = [];
    if (view.step) {
      const label = view.state === "failed" ? "failed at" : "step";
      const of = view.step_index !== null ? ` (${view.step_index} of ${view.step_count})` : "";
      facts.push([label, view.step + of]);
    }
    if (view.failed_at) facts.push(["in", view.failed_at]);
    const others = (view.running || []).filter((step) => step !== view.step);
    if (view.state === "building" && others.length) facts.push(["also running", others.join("\n")]);
    if (view.steps_done) facts.push(["steps", `${view.steps_done} done, ${view.steps_cached} from cache`]);
    if (view.started !== null) facts.push(["started", clock(view.started)]);
    if (view.state === "building" && view.started !== null) {
      facts.push(["building for", seconds(Date.now() / 1000 - skew - view.started)]);
    }
    if (view.seconds !== null) facts.push(["took", seconds(view.seconds)]);
    if (view.state === "waiting") {
      const on = view.needs.filter((n) => views.has(n) && !READY.has(views.get(n).state)
        && views.get(n).state !== "idle");
      if (on.length) facts.push(["waiting on", on.join(", ")]);
    }
    if (view.reason) facts.push(["rebuilt because", view.reason]);
    if (view.detail) {
      const digest = /^sha256:[0-9a-f]{64}$/.test(view.detail);
      facts.push([view.state === "failed" ? "error" : digest ? "digest" : "detail", view.detail]);
    }
    facts.push(["wave", String(view.wave)]);
    if (view.needs.length) facts.push(["needs", view.needs.join(", ")]);
    fill($("d-facts"), facts);

    const failure = view.failure;
    $("d-failure").hidden = !failure;
    if (failure) {
      // Failed now: the facts above say where and why; here only its last lines.
      const now = view.state === "failed";
      $("d-failure-title").textContent = now ? "its last lines" : "last failure";
      const rows = now ? [] : [["at", clock(failure.time)]];
      if (failure.step && !now) rows.push(["step", failure.step]);
      if (failure.failed_at && !now) rows.push(["in", failure.failed_at]);
      if (failure.detail && !now) rows.push(["error", failure.detail]);
      fill($("d-failure-facts"), rows);
      $("d-failure-facts").hidden = now;
      $("d-failure-tail").textContent = failure.log_tail.join("\n");
      $("d-failure-tail").hidden = !failure.log_tail.length;
    }
    followLog(); // the facts' height changes the log's
  }

  function fill(list, rows) {
    const items = [];
    for (const [term, text] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = text;
      dd.dataset.fact = term;
      items.push(dt, dd);
    }
    list.replaceChildren(...items);
  }

  function clock(epoch) {
    return new Date((epoch + skew) * 1000).toLocaleTimeString();
  }

  function seconds(value) {
    return value < 60 ? `${value.toFixed(1)} s` : `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
  }

  async function rebuild() {
    if (selected === null) return;
    const name = selected.name;
    const answerEl = $("d-answer");
    answerEl.hidden = false;
    answerEl.dataset.kind = "info";
    answerEl.textContent = `asking for a rebuild of ${name}…`;
    try {
      const answer = await fetch("rebuild", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ target: name }),
      });
      const body = await answer.json();
      answerEl.dataset.kind = answer.ok ? "info" : "error";
      answerEl.textContent = answer.ok ? `${name}: rebuild asked for` : body.error;
    } catch (error) {
      answerEl.dataset.kind = "error";
      answerEl.textContent = `the rebuild could not be asked for: ${error.message}`;
    }
  }

  // Notes -----------------------------------------------------------------------------

  function addNote(note) {
    if (!note.text) return;
    const list = $("notes");
    const item = document.createElement("li");
    item.dataset.kind = note.kind;
    const time = document.createElement("time");
    time.textContent = new Date((note.time + skew) * 1000).toLocaleTimeString();
    item.append(time, document.createTextNode(note.text));
    list.append(item);
    while (list.childElementCount > 100) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  }

  // Wiring ----------------------------------------------------------------------------

  function targetOf(event) {
    const el = event.target.closest("[data-target]");
    return el ? el.dataset.target : null;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const graph = $("graph");
    graph.addEventListener("click", (event) => {
      const name = targetOf(event);
      if (name !== null) select(name);
    });
    graph.addEventListener("keydown", (event) => {
      const name = targetOf(event);
      if (name !== null && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        select(name);
      }
    });
    $("d-log").addEventListener("scroll", () => {
      const log = $("d-log");
      following = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    });
    $("d-close").addEventListener("click", closeDetails);
    $("d-rebuild").addEventListener("click", rebuild);
    $("fit").addEventListener("click", () => {
      const fitted = graph.classList.toggle("fit");
      $("fit").textContent = fitted ? "actual size" : "fit";
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeDetails();
    });
    setInterval(() => {
      if (selected && views.get(selected.name)?.state === "building") showFacts();
    }, 1000);
    connect();
  });
})();
