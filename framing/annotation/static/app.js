// The annotation page. Every text from the server is set with textContent: passages are data, never markup.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
let codebook = null;
let state = null;
let selected = new Set();
let shownId = null;
let shownAt = performance.now();
let chain = Promise.resolve();  // key presses run one after another, each on the state the previous one left

function $(id) { return document.getElementById(id); }

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function call(path, body) {
  const options = { method: body === undefined ? "GET" : "POST", headers: { "X-Framing-Token": token } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response, data;
  try {
    response = await fetch(path, options);
    data = await response.json();
  } catch (error) {
    $("status").textContent = "The annotation server does not answer (" + error + "); answers so far are saved.";
    return null;
  }
  if (!response.ok) {
    $("status").textContent = data.error || ("error " + response.status);
    if (data.state) render(data.state);
    return null;
  }
  $("status").textContent = "";
  return data;
}

function renderCodebook() {
  $("codebook-name").textContent = codebook.name + " " + codebook.version + " \u00b7 " + codebook.annotator + (codebook.blind ? " \u00b7 blind" : "");
  $("labels-file").textContent = codebook.labels_file;
  const aside = $("codebook");
  aside.replaceChildren();
  for (const frame of codebook.frames) {
    aside.append(element("h3", "", (frame.key ? frame.key + "  " : "") + frame.name));
    aside.append(element("p", "", frame.definition));
    if (frame.includes.length) {
      const list = element("ul", "includes");
      for (const item of frame.includes) list.append(element("li", "", item));
      aside.append(list);
    }
    if (frame.excludes.length) {
      const list = element("ul", "excludes");
      for (const item of frame.excludes) list.append(element("li", "", "not: " + item));
      aside.append(list);
    }
  }
  aside.append(element("h3", "", "0  none"));
  aside.append(element("p", "", codebook.none_definition));
  const frames = $("frames");
  frames.replaceChildren();
  codebook.frames.forEach((frame, i) => {
    const item = element("li");
    item.dataset.frame = frame.name;
    item.setAttribute("role", "checkbox");
    item.append(element("span", "key", frame.key), element("span", "name", frame.name));
    const bar = element("span", "bar");
    const fill = element("span");
    fill.style.background = frame.color;
    const mark = element("i");
    mark.style.left = (100 * frame.threshold) + "%";
    mark.title = "threshold " + frame.threshold;
    bar.append(fill, mark);
    item.append(bar, element("span", "p"));
    item.addEventListener("click", () => enqueue(() => toggle(i)));
    frames.append(item);
  });
}

function render(next) {
  state = next;
  const passage = state.passage;
  const progress = state.progress;
  const counts = Object.entries(progress.counts).map(([name, n]) => name + " " + n).join(" \u00b7 ");
  $("progress").textContent = "done " + progress.done + " \u00b7 left " + progress.left + " \u00b7 skipped " + progress.skipped + " \u00b7 " + counts;
  $("progress").dataset.done = progress.done;
  $("progress").dataset.left = progress.left;
  document.body.dataset.passageId = passage ? passage.id : "";
  $("done").hidden = passage !== null;
  for (const id of ["article", "before", "passage", "after", "frames", "choice", "selected-by"]) $(id).hidden = passage === null;
  if (passage === null) return;
  if (passage.id !== shownId) {
    shownId = passage.id;
    selected = new Set();
    shownAt = performance.now();
  }
  $("title").textContent = passage.title || passage.article_id;
  $("outlet").textContent = passage.outlet ? "\u2014 " + passage.outlet : "";
  $("before").textContent = passage.before || "";
  $("passage").textContent = passage.text;
  $("after").textContent = passage.after || "";
  $("selected-by").textContent = "selected by " + passage.selected_by + " \u00b7 order: " + state.order.name + " from the " + state.order.source +
    (state.order.error ? " (refresh failed: " + state.order.error + ")" : "");
  renderChoice();
}

function renderChoice() {
  const suggestion = state.passage ? state.passage.suggestion : null;
  for (const item of $("frames").children) {
    const name = item.dataset.frame;
    item.setAttribute("aria-checked", selected.has(name) ? "true" : "false");
    const p = suggestion ? suggestion[name] : null;
    item.querySelector(".bar span").style.width = p === null ? "0" : (100 * p) + "%";
    item.querySelector(".p").textContent = p === null ? "" : p.toFixed(2);
  }
  const names = codebook.frames.map((f) => f.name).filter((name) => selected.has(name));
  $("choice").textContent = "answer: " + (names.length ? names.join(", ") : "none") + "  (Enter accepts)";
}

function toggle(i) {
  if (!state || !state.passage || i >= codebook.frames.length) return;
  const name = codebook.frames[i].name;
  if (selected.has(name)) selected.delete(name); else selected.add(name);
  renderChoice();
}

async function accept() {
  if (!state || !state.passage) return;
  const labels = codebook.frames.map((f) => f.name).filter((name) => selected.has(name));
  const next = await call("api/answer", { id: state.passage.id, labels: labels, seconds: (performance.now() - shownAt) / 1000 });
  if (next) render(next);
}

async function skip() {
  if (!state || !state.passage) return;
  const next = await call("api/skip", { id: state.passage.id });
  if (next) render(next);
}

async function undo() {
  const next = await call("api/undo", {});
  if (next) { shownId = null; render(next); }
}

function enqueue(action) {
  chain = chain.then(action).catch((error) => { $("status").textContent = String(error); });
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key;
  if (key >= "1" && key <= "9") enqueue(() => toggle(Number(key) - 1));
  else if (key === "0") enqueue(() => { selected = new Set(); renderChoice(); });
  else if (key === "Enter") enqueue(accept);
  else if (key === "s" || key === "S") enqueue(skip);
  else if (key === "u" || key === "U") enqueue(undo);
  else if (key === "?") $("help").hidden = !$("help").hidden;
  else if (key === "Escape") $("help").hidden = true;
  else return;
  event.preventDefault();
});

async function start() {
  $("help-button").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });
  codebook = await call("api/codebook");
  if (!codebook) return;
  renderCodebook();
  const first = await call("api/state");
  if (first) render(first);
}

enqueue(start);
