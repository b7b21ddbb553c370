// fulfillmap playground: the page's logic. Plain JavaScript, no build step: the only built
// file is codemirror.js (the global CM), vendored from frontend/ by `make playground-bundle`.
"use strict";

const TOKEN = document.querySelector('meta[name="playground-token"]').content;
const MAX_BODY = 2 * 1024 * 1024; // the server's limit; larger edits are refused here first
const DEBOUNCE_MS = 200;
const $ = (id) => document.getElementById(id);

// -- talking to the server ------------------------------------------------------------------

class ServerGone extends Error {}

async function api(path, body) {
  const options = { headers: { "X-Playground-Token": TOKEN } };
  if (body !== undefined) {
    const text = JSON.stringify(body);
    if (new Blob([text]).size > MAX_BODY) {
      throw new Error(`too large to send: the mapping and payloads together must stay under ${MAX_BODY / 1024 / 1024} MB`);
    }
    Object.assign(options, { method: "POST", body: text });
    options.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    setGone(true);
    throw new ServerGone("the playground server is gone");
  }
  setGone(false);
  let data;
  try {
    data = await response.json();
  } catch (error) {
    throw new Error(`the server answered ${response.status} without JSON`);
  }
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

function setGone(gone) {
  $("gone").hidden = !gone;
  document.body.classList.toggle("gone", gone);
}

setInterval(() => api("/api/ping").catch(() => {}), 3000);

// -- the editors ----------------------------------------------------------------------------

const highlightLine = CM.StateEffect.define();
const highlightField = CM.StateField.define({
  create: () => CM.Decoration.none,
  update(decorations, transaction) {
    decorations = decorations.map(transaction.changes);
    for (const effect of transaction.effects) {
      if (effect.is(highlightLine)) {
        decorations = effect.value === null ? CM.Decoration.none
          : CM.Decoration.set([CM.Decoration.line({ class: "cm-fm-highlight" }).range(effect.value)]);
      }
    }
    return decorations;
  },
  provide: (field) => CM.EditorView.decorations.from(field),
});

function editor(id, language, onChange, ...more) {
  return new CM.EditorView({
    parent: $(id),
    extensions: [
      CM.basicSetup,
      language,
      ...more,
      highlightField,
      CM.EditorView.updateListener.of((update) => { if (update.docChanged) onChange(); }),
    ],
  });
}

const text = (view) => view.state.doc.toString();
function setText(view, value) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } });
}

const editors = {
  mapping: editor(
    "mapping", CM.yaml(), () => { schedule(); showDirty(); }, CM.EditorView.lineWrapping,
    CM.keymap.of([{ key: "Mod-s", preventDefault: true, run: () => { saveMapping(); return true; } }]),
  ),
  input: editor("input", CM.json(), () => schedule()),
  context: editor("context", CM.json(), () => schedule()),
};

// Select (and highlight) a line:column of the mapping editor, scrolled into view.
function reveal(line, column) {
  const view = editors.mapping;
  const doc = view.state.doc;
  const at = doc.line(Math.min(Math.max(line, 1), doc.lines));
  const position = Math.min(at.from + Math.max(column - 1, 0), at.to);
  view.dispatch({
    selection: { anchor: position },
    effects: [highlightLine.of(at.from), CM.EditorView.scrollIntoView(position, { y: "center" })],
  });
  view.focus();
}

// -- evaluating as you type: debounced, one request at a time, newest wins --------------------

let session = null;
let timer = null;
let sent = 0; // the sequence number of the newest request sent
let shown = 0; // the sequence number of the response on show
let inFlight = false;
let again = false;

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(evaluate, DEBOUNCE_MS);
}

async function evaluate() {
  if (inFlight) { again = true; return; }
  inFlight = true;
  const seq = ++sent;
  $("busy").hidden = false;
  try {
    const result = await api("/api/evaluate", state());
    if (seq > shown) { shown = seq; render(result); }
  } catch (error) {
    if (seq > shown) { shown = seq; renderFailure(error.message); }
  } finally {
    inFlight = false;
    $("busy").hidden = true;
    if (again) { again = false; evaluate(); }
  }
}

function state() {
  return { mapping: text(editors.mapping), input: text(editors.input), context: text(editors.context) };
}

// -- showing a result -----------------------------------------------------------------------

function render(result) {
  if (statusOfEvaluation) status("");
  renderProblems(result.problems);
  const output = $("output");
  const warnings = result.warnings || [];
  $("warnings").textContent = warnings.map((w) => `warning: ${w}`).join("\n");
  if (result.error) {
    output.textContent = result.error;
    output.className = "output error";
    badge("outcome", "error", "error");
  } else {
    output.textContent = JSON.stringify(result.output, null, 2);
    output.className = "output";
    badge("outcome", warnings.length ? "warn" : "ok", warnings.length ? `${warnings.length} warning(s)` : "ok");
  }
  renderTrace(result.trace);
}

// Nothing was evaluated: no panel may keep showing an older state as if it were current.
function renderFailure(message) {
  const output = $("output");
  output.textContent = message;
  output.className = "output error";
  $("warnings").textContent = "";
  badge("outcome", "error", "not evaluated");
  $("problems").replaceChildren(item("none", `Not checked: ${message}`));
  badge("problem-count", "", "?");
  badge("validity", "", "not checked");
  renderTrace(null);
  status(message, true, true);
}

function renderProblems(problems) {
  const list = $("problems");
  list.replaceChildren();
  const errors = problems.filter((p) => p.severity === "error").length;
  badge("problem-count", errors ? "error" : problems.length ? "warn" : "ok", problems.length ? String(problems.length) : "none");
  badge("validity", errors ? "error" : "ok", errors ? "invalid" : "valid");
  if (!problems.length) {
    list.append(item("none", "No problems: fulfillmap validate would pass this mapping."));
    return;
  }
  for (const problem of problems) {
    const row = item(problem.severity, "");
    const where = document.createElement("span");
    where.className = "where";
    const elsewhere = problem.file !== session.file ? `${problem.file}:` : "";
    where.textContent = `${elsewhere}${problem.line}:${problem.column}`;
    const label = problem.severity === "error" ? "" : `${problem.severity}: `;
    const at = problem.specPath ? ` (at ${problem.specPath})` : "";
    row.append(where, ` ${label}${problem.message}${at}`);
    row.dataset.line = problem.line;
    row.title = problem.text;
    if (!elsewhere) row.addEventListener("click", () => reveal(problem.line, problem.column));
    list.append(row);
  }
}

function item(className, content) {
  const row = document.createElement("li");
  row.className = className;
  row.textContent = content;
  return row;
}

function renderTrace(trace) {
  const body = $("trace").tBodies[0];
  body.replaceChildren();
  if (!trace) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 5;
    cell.className = "why";
    cell.textContent = "No trace: the mapping did not run.";
    return;
  }
  for (const step of trace.steps) {
    const row = document.createElement("tr");
    row.className = step.outcome;
    row.dataset.line = step.line;
    row.dataset.target = step.target;
    const value = "value" in step ? JSON.stringify(step.value) : step.outcome;
    const tried = step.attempts.map((a) => a.expression).join(" | ");
    const from = step.plugin ? `plugin ${step.plugin}` : step.expression || tried;
    for (const [content, className] of [
      [`${step.line}:${step.column}`, ""], [step.target, ""], [value, ""], [from, ""], [why(step), "why"],
    ]) {
      const cell = document.createElement("td");
      cell.textContent = content;
      cell.title = content;
      if (className) cell.className = className;
      row.append(cell);
    }
    row.addEventListener("click", () => {
      for (const other of body.querySelectorAll("tr.selected")) other.classList.remove("selected");
      row.classList.add("selected");
      reveal(step.line, step.column);
    });
    body.append(row);
  }
}

// Which fallback fired, or why the field was omitted (the words of `fulfillmap trace`).
function why(step) {
  const tried = step.attempts.map((a) => `${a.reads.join(", ") || a.expression} is ${a.found}`);
  if (step.outcome === "value" && step.fallback) {
    return `fallback ${step.fallback + 1} of ${step.attempts.length}; ${tried.slice(0, step.fallback).join(", ")}`;
  }
  if (step.outcome === "value") return step.attempts.length > 1 ? `expression 1 of ${step.attempts.length}` : "";
  if (step.outcome === "constant") return "constant";
  if (step.outcome === "default") return `default: ${tried.join(", ") || "no value"}`;
  return `${step.outcome}: ${step.reason.replace(/^absent: /, "")}`;
}

function badge(id, kind, label) {
  const element = $(id);
  element.className = `badge ${kind}`;
  element.textContent = label;
}

// The status line: what saving said, or why nothing could be evaluated (cleared by the next
// evaluation that succeeds; a save's message stays until the next save).
let statusOfEvaluation = false;
function status(message, error = false, ofEvaluation = false) {
  statusOfEvaluation = ofEvaluation;
  const element = $("status");
  element.textContent = message;
  element.title = message;
  element.className = error ? "status error" : "status";
}

// -- examples, saving ---------------------------------------------------------------------

function fillPickers(examples) {
  const input = $("input-example");
  const context = $("context-example");
  input.replaceChildren(new Option(examples.length ? "example input…" : "no examples", ""));
  context.replaceChildren(new Option("example context…", ""), new Option("(no context)", "-"));
  examples.forEach((example, index) => {
    input.append(new Option(example.name, String(index)));
    if (example.context !== null) context.append(new Option(example.name, String(index)));
  });
  input.onchange = () => {
    if (input.value !== "") setText(editors.input, examples[Number(input.value)].input);
    input.value = "";
  };
  context.onchange = () => {
    if (context.value === "-") setText(editors.context, "");
    else if (context.value !== "") setText(editors.context, examples[Number(context.value)].context);
    context.value = "";
  };
  const names = new Set(examples.map((e) => e.name));
  let n = 1;
  while (names.has(`playground-${n}`)) n += 1;
  $("case-name").value = `playground-${n}`;
}

let saved = "";
function showDirty() {
  const dirty = text(editors.mapping) !== saved;
  $("save-mapping").textContent = dirty ? "Save mapping •" : "Save mapping";
}

async function saveMapping() {
  if (!session || !session.writable) return;
  try {
    const mapping = text(editors.mapping);
    const answer = await api("/api/save-mapping", { mapping });
    saved = mapping;
    showDirty();
    status(answer.message);
  } catch (error) {
    status(`not saved: ${error.message}`, true);
  }
}

async function saveCase() {
  try {
    const answer = await api("/api/save-case", { ...state(), name: $("case-name").value });
    status(answer.message);
    session.examples = answer.examples;
    fillPickers(answer.examples);
  } catch (error) {
    status(`not saved: ${error.message}`, true);
  }
}

async function start() {
  try {
    session = await api("/api/session");
  } catch (error) {
    renderFailure(`cannot start: ${error.message}`);
    return;
  }
  $("file").textContent = session.file;
  $("file").title = session.file;
  for (const id of ["save-mapping", "save-case", "case-name"]) {
    $(id).disabled = !session.writable;
    if (!session.writable) $(id).title = "a shipped mapping, opened by name, is read-only: open a copy by path to save";
  }
  if (session.writable) $("save-case").title = `appends a case to ${session.testFile}`;
  $("save-mapping").addEventListener("click", saveMapping);
  $("save-case").addEventListener("click", saveCase);
  fillPickers(session.examples);
  if (session.examplesNote) status(`examples: ${session.examplesNote}`, true);
  saved = session.mapping;
  setText(editors.mapping, session.mapping);
  setText(editors.input, session.input);
  setText(editors.context, session.context);
  showDirty();
  evaluate();
}

start();
