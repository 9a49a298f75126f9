// The live build page: one EventSource on /events, every message a whole status
// document (docs/live-status.schema.json), rendered with textContent only.
"use strict";

const $ = (sel) => document.querySelector(sel);
// For the browser tests and bench/live_page.py: when each status arrived, and when each
// finished job was first shown (to compare with its finished_at).
window.clxLog = [];
window.clxSeen = {};

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function link(href, text) {
  const a = el("a", text);
  a.href = href;
  return a;
}

function rows(table, items, cells) {
  const body = $(table + " tbody");
  body.replaceChildren(...items.map((item) => {
    const tr = el("tr");
    for (const c of cells(item)) {
      const td = c instanceof Node ? wrap(c) : el("td", c === null ? "" : c);
      tr.appendChild(td);
    }
    return tr;
  }));
}

function wrap(node) {
  if (node.tagName === "TD") return node;
  const td = el("td");
  td.appendChild(node);
  return td;
}

function num(text) {
  return el("td", text, "num");
}

function secs(s) {
  if (s === null || s === undefined) return "";
  return s < 90 ? s.toFixed(1) + " s" : (s / 60).toFixed(1) + " min";
}

function bar(k) {
  const div = el("div", null, "bar");
  const total = k.total + k.cached || 1;
  let left = 0;
  for (const [cls, n] of [["cached", k.cached], ["ok", k.succeeded], ["bad", k.failed]]) {
    const span = el("span", null, cls);
    span.style.left = (100 * left / total) + "%";
    span.style.width = (100 * n / total) + "%";
    left += n;
    div.appendChild(span);
  }
  div.appendChild(el("em", `${k.succeeded + k.failed} / ${k.total}`));
  return div;
}

function renderState(b) {
  const state = $("#state");
  if (!b) {
    state.textContent = "waiting for a build";
    state.className = "state";
    return;
  }
  if (b.state === "running") {
    state.textContent = "running";
    state.className = "state running";
  } else {
    const failed = b.failed || b.errors || 0;
    state.textContent = failed ? `done, ${failed} failed` : "done";
    state.className = "state " + (failed || b.ok === false ? "done-failed" : "done-ok");
  }
  const bits = [`build ${b.id}`, secs(b.seconds)];
  if (b.jobs !== null && b.jobs !== undefined) bits.push(`${b.jobs} job(s) to run`);
  if (b.cached) bits.push(`${b.cached} answered from the cache`);
  if (b.outputs !== null && b.outputs !== undefined) bits.push(`${b.outputs} outputs`);
  $("#summary").textContent = bits.join(" · ");
}

function renderFailures(failures) {
  const box = $("#failures");
  box.replaceChildren(...failures.map((f) => {
    const div = el("div", null, "failure");
    let where = f.file || "<course>";
    if (f.line !== null && f.line !== undefined) where += ":" + f.line;
    const head = el("div");
    head.appendChild(el("span", where, "where"));
    const variants = f.variants && f.variants.length ? f.variants.join(", ") : f.lang;
    if (variants) head.appendChild(el("span", " [" + variants + "]", "muted"));
    div.appendChild(head);
    div.appendChild(el("div", f.message));
    if (f.detail) div.appendChild(el("pre", f.detail));
    return div;
  }));
  $("#failures-none").hidden = failures.length > 0;
}

function render(doc) {
  $("#course").textContent = doc.course.name;
  document.title = `${doc.course.name}: clx build`;
  renderState(doc.build);
  rows("#kinds", Object.entries(doc.kinds), ([kind, k]) => [
    kind, bar(k), el("td", k.failed || "", k.failed ? "bad" : ""), k.cached || "",
    k.running || "", k.pending || ""]);
  rows("#running", doc.running, (j) => [
    j.deck || j.file, j.lang, j.kind, j.worker, j.host, num(secs(j.seconds))]);
  $("#running-none").hidden = doc.running.length > 0;
  renderFailures(doc.failures);
  const home = $("#home-pages");
  home.replaceChildren(...doc.course.home_pages.flatMap((h, i) =>
    [i ? document.createTextNode(" · ") : document.createTextNode("Home pages: "),
     link(h.url, h.path)]));
  rows("#finished", doc.finished, (j) => {
    const td = el("td");
    for (const o of j.outputs) td.appendChild(link(o.url, o.name));
    return [j.deck || j.file, j.lang, j.kind, el("td", j.state, j.state === "succeeded" ? "" : "bad"),
            num(secs(j.seconds)), td];
  });
  rows("#workers", doc.workers, (w) => [
    w.id, w.kinds.join(", "), w.state, w.host, num(w.jobs_done)]);
  rows("#builds", doc.builds, (b) => [
    b.id, b.state === "running" ? "running" : (b.ok === false ? "failed" : "done"),
    (b.started_at || "").replace("T", " ").slice(0, 19), num(secs(b.seconds)),
    num(b.jobs ?? ""), num(b.cached ?? "")]);
}

function connect() {
  const source = new EventSource("/events");
  source.addEventListener("status", (e) => {
    const doc = JSON.parse(e.data);
    const now = Date.now();
    window.clxLog.push({received: now, version: Number(e.lastEventId)});
    for (const j of doc.finished) {
      if (!(j.id in window.clxSeen)) window.clxSeen[j.id] = {received: now, finished_at: j.finished_at};
    }
    window.clxLast = doc;
    render(doc);
    $("#connection").textContent = "live";
  });
  source.addEventListener("end", () => {
    source.close();
    $("#connection").textContent = "the build has ended and its server stopped; this is its last state";
  });
  source.onerror = () => {
    $("#connection").textContent = "connection lost, retrying…";
  };
}

connect();
