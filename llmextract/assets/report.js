"use strict";
// Eval and compare reports, drawn from the JSON in #data; text only through text nodes.
const DATA = JSON.parse(document.getElementById("data").textContent);
const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// One row per metric: a bar from `from` to `value`, a whisker from low to high.
function chart(rows, { min, max, label }) {
  const width = 760, left = 230, row = 22, scale = (v) => left + (v - min) / (max - min) * (width - left - 110);
  const box = svg("svg", { width, height: rows.length * row + 30, role: "img", "aria-label": label });
  box.append(svg("line", { class: "axis", x1: scale(Math.max(min, 0)), x2: scale(Math.max(min, 0)), y1: 0, y2: rows.length * row }));
  rows.forEach((r, i) => {
    const y = i * row;
    box.append(svg("text", { x: 0, y: y + 15, "font-size": 12 }, r.key));
    const [a, b] = [scale(Math.min(0, r.value)), scale(Math.max(0, r.value))];
    box.append(svg("rect", { class: "bar", x: Math.min(a, b), y: y + 4, width: Math.max(Math.abs(b - a), 1), height: row - 8, "data-metric": r.key }));
    box.append(svg("line", { class: "ci", x1: scale(r.low), x2: scale(r.high), y1: y + row / 2, y2: y + row / 2 }));
    box.append(svg("text", { x: width - 90, y: y + 15, "font-size": 12 }, r.value.toFixed(3)));
  });
  for (const tick of [min, (min + max) / 2, max])
    box.append(svg("text", { x: scale(tick) - 10, y: rows.length * row + 20, "font-size": 11 }, tick.toFixed(2)));
  return box;
}

function table(headers, rows) {
  const t = el("table", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h))));
  for (const r of rows) t.append(el("tr", {}, ...r.map((c) => el("td", {}, String(c)))));
  return t;
}

// Each piece of text between span boundaries is one mark listing every span over it, so
// overlapping spans all stay visible; its colour is the worst status among them.
function marked(text, marks, side) {
  const box = el("div", { class: side });
  const cuts = new Set([0, text.length]);
  marks.forEach((m) => { cuts.add(m.start); cuts.add(m.end); });
  const points = [...cuts].sort((a, b) => a - b);
  const rank = { miss: 2, fp: 2, match: 1 };
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    const over = marks.map((m, n) => ({ ...m, n })).filter((m) => m.start <= a && m.end >= b);
    if (!over.length) { box.append(text.slice(a, b)); continue; }
    over.sort((x, y) => rank[y.status] - rank[x.status]);
    box.append(el("mark", {
      class: over[0].status, "data-start": a, "data-end": b,
      "data-spans": over.map((m) => `${m.task}:${m.n}:${m.status}:${m.start}:${m.end}`).join(" "),
      title: over.map((m) => `${m.task}: ${m.status}`).join(", "),
    }, text.slice(a, b)));
  }
  return box;
}

function evalReport() {
  const f1 = DATA.metrics.map((m) => ({ key: m.key, value: m.f1, low: m.low, high: m.high }));
  document.body.append(el("section", { id: "metrics" }, el("h2", {}, "F1 with 95% bootstrap intervals"),
    chart(f1, { min: 0, max: 1, label: "F1 per metric" }),
    table(["metric", "P", "R", "F1", "95% CI", "tp", "fp", "fn"], DATA.metrics.map((m) =>
      [m.key, m.p.toFixed(3), m.r.toFixed(3), m.f1.toFixed(3), `${m.low.toFixed(3)}–${m.high.toFixed(3)}`, m.tp, m.fp, m.fn]))));
  const docs = DATA.documents;
  const pick = el("select", { id: "doc-select" });
  docs.forEach((d, i) => {
    const misses = d.gold.filter((m) => m.status === "miss").length;
    const fps = d.pred.filter((m) => m.status === "fp").length;
    pick.append(el("option", { value: String(i) }, `${d.id} (${misses} missed, ${fps} false)`));
  });
  const pair = el("div", { class: "pair", id: "pair" });
  const show = () => {
    const d = docs[Number(pick.value)];
    pair.replaceChildren(
      el("div", {}, el("h3", {}, "gold"), marked(d.text, d.gold, "gold")),
      el("div", {}, el("h3", {}, "predicted"), marked(d.text, d.pred, "pred")));
  };
  pick.addEventListener("change", show);
  document.body.append(el("section", { id: "documents" }, el("h2", {}, "Documents"),
    el("p", { class: "legend" }, el("span", { style: "background:#c8f0c8" }, "matched"),
      el("span", { style: "background:#ffc9c9" }, "missed (gold)"),
      el("span", { style: "background:#ffe0b3" }, "false positive (predicted)")), pick, pair));
  if (docs.length) show();
}

function compareReport() {
  const rows = DATA.rows.map((r) => ({ key: r.key, value: r.delta, low: r.low, high: r.high }));
  const lim = Math.max(0.05, ...DATA.rows.map((r) => Math.max(Math.abs(r.low), Math.abs(r.high))));
  document.body.append(el("section", { id: "metrics" }, el("h2", {}, "F1 change (B − A)"),
    chart(rows, { min: -lim, max: lim, label: "F1 change per metric" }),
    table(["metric", "A", "B", "B − A", "95% CI", "verdict", "flipped documents"], DATA.rows.map((r) =>
      [r.key, r.a.toFixed(3), r.b.toFixed(3), (r.delta >= 0 ? "+" : "") + r.delta.toFixed(3),
       `${r.low.toFixed(3)} to ${r.high.toFixed(3)}`, r.worse ? "worse" : r.better ? "better" : "no clear change",
       r.flipped.join(", ")]))));
}

document.body.append(el("header", {}, el("h1", {}, DATA.title), el("span", {}, DATA.subtitle)));
DATA.kind === "eval" ? evalReport() : compareReport();
