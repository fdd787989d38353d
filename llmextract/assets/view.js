"use strict";
// Draws one document at a time from the JSON in #data. Article text only ever goes in
// through text nodes, never as HTML.
const DATA = JSON.parse(document.getElementById("data").textContent);
const docs = DATA.documents;
const TASKS = DATA.tasks || ["quotes", "events", "stances"];
const state = { doc: 0, tasks: new Set(TASKS), type: "", speaker: "" };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function visible(record) {
  return state.tasks.has(record.task) && (!state.type || record.type === state.type) &&
    (!state.speaker || record.speaker === state.speaker);
}

function drawArticle(doc, records) {
  const article = document.getElementById("article");
  article.replaceChildren();
  const spans = [];
  for (const record of records)
    for (const span of record.spans) spans.push({ ...span, rec: record.id });
  const cuts = new Set([0, doc.text.length]);
  for (const span of spans) { cuts.add(span.start); cuts.add(span.end); }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    const over = spans.filter((s) => s.start <= a && s.end >= b);
    const piece = doc.text.slice(a, b);
    if (!over.length) { article.append(piece); continue; }
    over.sort((x, y) => (x.end - x.start) - (y.end - y.start)); // innermost first
    const mark = el("mark", {
      class: over[0].css,
      "data-rec": over[0].rec,
      "data-spans": over.map((s) => `${s.rec}.${s.role}`).join(" "),
      "data-start": a, "data-end": b,
      title: over.map((s) => `${s.rec} ${s.role}`).join(", "),
    }, piece);
    mark.addEventListener("click", () => select(over[0].rec, false));
    article.append(mark);
  }
}

function select(id, scroll) {
  document.querySelectorAll(".flash").forEach((n) => n.classList.remove("flash"));
  document.querySelectorAll("aside li.selected").forEach((n) => n.classList.remove("selected"));
  const marks = [...document.querySelectorAll("mark")].filter(
    (m) => m.dataset.spans.split(" ").some((s) => s.startsWith(id + ".")));
  marks.forEach((m) => m.classList.add("flash"));
  const item = document.querySelector(`aside li[data-rec="${id}"]`);
  if (item) item.classList.add("selected");
  if (scroll && marks.length) marks[0].scrollIntoView({ block: "center" });
}

function drawLists(doc, records) {
  const aside = document.getElementById("records");
  aside.replaceChildren();
  for (const task of TASKS) {
    if (!state.tasks.has(task)) continue;
    const items = records.filter((r) => r.task === task);
    aside.append(el("h2", {}, `${task} (${items.length})`));
    const list = el("ol", { "data-task": task });
    for (const record of items) {
      const item = el("li", { "data-rec": record.id }, record.label);
      // What the pipeline changed in this record before emitting it: kept, so not a drop.
      for (const c of record.corrections)
        item.append(el("div", { class: "correction", title: c.item ? JSON.stringify(c.item) : "" },
          `corrected: ${c.reason}`));
      item.addEventListener("click", () => select(record.id, true));
      list.append(item);
    }
    aside.append(list);
  }
  if (doc.dropped.length) {
    aside.append(el("h2", {}, `dropped (${doc.dropped.length})`));
    const list = el("ol", { class: "dropped" });
    for (const d of doc.dropped)
      list.append(el("li", {}, `${d.task}: ${d.reason}`,
        el("code", {}, d.item ? JSON.stringify(d.item) : "")));
    aside.append(list);
  }
}

function fillFilter(id, values, current) {
  const select = document.getElementById(id);
  const first = select.options[0].textContent;
  select.replaceChildren(el("option", { value: "" }, first));
  for (const value of [...new Set(values)].sort()) {
    const option = el("option", { value }, value);
    if (value === current) option.selected = true;
    select.append(option);
  }
}

function draw() {
  const doc = docs[state.doc];
  document.getElementById("position").textContent = `${state.doc + 1} / ${docs.length}`;
  document.getElementById("doc-select").value = String(state.doc);
  fillFilter("type-filter", doc.records.filter((r) => r.type).map((r) => r.type), state.type);
  fillFilter("speaker-filter", doc.records.filter((r) => r.speaker).map((r) => r.speaker), state.speaker);
  const records = doc.records.filter(visible);
  const status = document.getElementById("status");
  status.textContent = doc.error ? `error: ${doc.error}` : `${records.length} of ${doc.records.length} records shown`;
  status.className = doc.error ? "error" : "";
  drawArticle(doc, records);
  drawLists(doc, records);
}

function header() {
  const bar = el("header", {}, el("h1", {}, DATA.title));
  const prev = el("button", { id: "prev" }, "◀");
  const next = el("button", { id: "next" }, "▶");
  const pick = el("select", { id: "doc-select" });
  docs.forEach((d, i) => pick.append(el("option", { value: String(i) }, d.id)));
  prev.addEventListener("click", () => { if (state.doc > 0) { state.doc--; draw(); } });
  next.addEventListener("click", () => { if (state.doc + 1 < docs.length) { state.doc++; draw(); } });
  pick.addEventListener("change", () => { state.doc = Number(pick.value); draw(); });
  bar.append(prev, pick, next, el("span", { id: "position" }));
  for (const task of TASKS) {
    const box = el("input", { type: "checkbox", id: `task-${task}`, checked: "" });
    box.addEventListener("change", () => {
      box.checked ? state.tasks.add(task) : state.tasks.delete(task); draw();
    });
    bar.append(el("label", {}, box, ` ${task}`));
  }
  const type = el("select", { id: "type-filter" }, el("option", { value: "" }, "any event type"));
  const speaker = el("select", { id: "speaker-filter" }, el("option", { value: "" }, "any speaker"));
  type.addEventListener("change", () => { state.type = type.value; draw(); });
  speaker.addEventListener("change", () => { state.speaker = speaker.value; draw(); });
  const legend = el("span", { class: "legend" });
  for (const [css, name] of [["q-content", "quote"], ["q-speaker", "speaker/holder"], ["q-cue", "cue"],
                             ["e-trigger", "event"], ["e-arg", "argument"], ["s-evidence", "stance"]])
    legend.append(el("span", { style: `background: var(--${{"q-content": "q", "q-speaker": "s", "q-cue": "c", "e-trigger": "t", "e-arg": "a", "s-evidence": "e"}[css]})` }, name));
  // A user task's span fields, each in its own colour (u-f0 ... u-f5, as render.py numbers them).
  for (const [task, names] of Object.entries(DATA.fields || {}))
    names.forEach((name, i) => legend.append(el("span", { class: `u-f${i % 6}` }, `${task}.${name}`)));
  bar.append(type, speaker, legend, el("span", { id: "status" }));
  return bar;
}

document.body.append(header(), el("main", {}, el("div", { id: "article" }), el("aside", { id: "records" })));
draw();
