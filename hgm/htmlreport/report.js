// The report page. Every string from the run archive is agent-influenced: it reaches the page only through
// textContent or attribute setters (never innerHTML), and through escapeText() before Plotly, whose labels read
// a few HTML tags.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("hgm-data").textContent);
  const run = data.run;
  const nodes = data.nodes;
  const count = nodes.id.length;
  const index = new Map(nodes.id.map((id, i) => [id, i]));
  const children = new Map();
  nodes.parent.forEach((p, i) => {
    if (p !== null) {
      if (!children.has(p)) children.set(p, []);
      children.get(p).push(nodes.id[i]);
    }
  });
  const PLOT_CONFIG = { displaylogo: false, responsive: true, scrollZoom: true };

  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "onclick") node.addEventListener("click", value);
      else node.setAttribute(key, String(value));
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return node;
  }

  function escapeText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  const fixed = (v, d) => (v === null || v === undefined ? "-" : Number(v).toFixed(d));
  const usd = (v) => "$" + (v >= 100 ? v.toLocaleString(undefined, { maximumFractionDigits: 2 }) : v.toFixed(4));

  function duration(seconds) {
    let s = Math.floor(seconds);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d) return `${d}d${String(h).padStart(2, "0")}h${String(m).padStart(2, "0")}m`;
    return h ? `${h}h${String(m).padStart(2, "0")}m${String(s).padStart(2, "0")}s` : `${m}m${String(s).padStart(2, "0")}s`;
  }

  // ---- summary ---------------------------------------------------------------------------------------------------

  function stateText() {
    if (run.state === "running") return `running (pid ${run.pid})`;
    if (run.state === "stopping") return `stopping: ${run.stop_reason}`;
    if (run.state === "died") return "not running: the process ended without recording a stop (hgm resume continues it)";
    if (run.state === "not started") return "not started yet";
    return `stopped: ${run.stop_reason}`;
  }

  function summary() {
    const best = run.best === null ? "-" : `node ${run.best}: ${nodes.s[index.get(run.best)]}/${nodes.n[index.get(run.best)]} solved`;
    const facts = [
      ["state", stateText()],
      ["evaluations", `${run.evals} / ${run.max_evals}` + (run.eval_errors ? ` (${run.eval_errors} errors)` : "")],
      ["nodes", `${run.nodes} (${run.failed} failed)`],
      ["best belief", best],
      ["cost", usd(run.spent) + (run.max_cost === null ? "" : ` / ${usd(run.max_cost)}`)],
      ["time", duration(run.elapsed) + (run.max_time === null ? "" : ` / ${duration(run.max_time)}`)],
      ["world · policy", `${run.world} · ${run.policy}` + (run.model ? ` · ${run.model}` : "")],
    ];
    const header = document.getElementById("summary");
    header.append(el("h1", {}, `hgm run ${run.name}`));
    header.append(el("div", { class: "facts" }, facts.map(([k, v]) => el("div", {}, el("b", {}, k), v))));
    if (run.costs.length) header.append(costTable(run.costs));
    document.getElementById("footer").append(
      `${run.path} · generated ${run.generated} · best belief = highest lower ${run.epsilon} posterior quantile of the success rate`
    );
  }

  function costTable(rows) {
    const head = el("tr", {}, ["role", "calls", "prompt tokens", "completion tokens", "USD"].map((h) => el("th", {}, h)));
    const body = rows.map((r) => el("tr", {}, el("td", {}, r[0]), el("td", {}, r[1] || "-"),
      el("td", {}, r[1] ? r[2].toLocaleString() : "-"), el("td", {}, r[1] ? r[3].toLocaleString() : "-"), el("td", {}, usd(r[4]))));
    return el("table", { class: "costs" }, head, body);
  }

  // ---- lineage tree ----------------------------------------------------------------------------------------------

  const COLOURS = [["own mean", "mean"], ["clade estimate (CMP)", "cmp"], ["lower bound", "lower"]];
  if (nodes.q.some((q) => q !== null)) COLOURS.push(["true quality (simulated)", "q"]);
  const evaluated = [], waiting = [], failed = [];
  for (let i = 0; i < count; i++) (nodes.failed[i] ? failed : nodes.n[i] ? evaluated : waiting).push(i);
  const treeDiv = document.getElementById("tree");
  const improved = [];
  for (let i = 0; i < count; i++) if (nodes.improver && nodes.improver[i]) improved.push(i);

  function hover(i) {
    let text = `node ${nodes.id[i]} · generation ${nodes.y[i]}`;
    if (nodes.failed[i]) return text + "<br>failed self-modification";
    text += `<br>own ${nodes.s[i]}/${nodes.n[i]}` + (nodes.n[i] ? ` (${fixed(nodes.mean[i], 2)})` : "");
    text += `<br>CMP ${fixed(nodes.cmp[i], 2)} over ${nodes.clade_n[i]} evaluations`;
    if (nodes.q[i] !== null) text += `<br>true quality ${fixed(nodes.q[i], 3)}`;
    if (nodes.improver && nodes.improver[i]) text += "<br>improver changed";
    return text;
  }

  function edges() {
    const x = [], y = [];
    for (let i = 0; i < count; i++) {
      const p = nodes.parent[i];
      if (p === null || !index.has(p)) continue;
      const j = index.get(p), mid = nodes.y[j] + 0.5;
      x.push(nodes.x[j], nodes.x[j], nodes.x[i], nodes.x[i], null);
      y.push(nodes.y[j], mid, mid, nodes.y[i], null);
    }
    return { x, y, type: "scatter", mode: "lines", line: { color: "#c4c9d2", width: 1 }, hoverinfo: "skip", name: "edges" };
  }

  function markers(rows, name, marker) {
    return {
      x: rows.map((i) => nodes.x[i]), y: rows.map((i) => nodes.y[i]), customdata: rows.map((i) => nodes.id[i]),
      text: rows.map(hover), hovertemplate: "%{text}<extra></extra>", type: "scatter", mode: "markers", name, marker,
    };
  }

  const sizeOf = (i) => Math.min(6 + 2.2 * Math.sqrt(nodes.n[i]), 30);
  const colourValues = (key) => evaluated.map((i) => nodes[key][i]);

  function tree() {
    const best = run.best === null ? [] : [index.get(run.best)];
    const traces = [
      edges(),
      markers(waiting, "not evaluated", { symbol: "circle-open", size: 7, color: "#9ca3af" }),
      markers(failed, "failed", { symbol: "x-thin-open", size: 7, color: "#d64545", line: { width: 2 } }),
      markers(evaluated, "evaluated", {
        size: evaluated.map(sizeOf), color: colourValues("mean"), colorscale: "Viridis", cmin: 0, cmax: 1,
        line: { color: "#ffffff", width: 0.5 }, colorbar: { title: { text: "own mean" }, thickness: 12 },
      }),
      markers(best, "best belief", { symbol: "star", size: 22, color: "#f6c343", line: { color: "#7a5300", width: 1.5 } }),
      { x: [], y: [], type: "scatter", mode: "lines+markers", name: "selected", hoverinfo: "skip",
        line: { color: "#e4572e", width: 2.5 }, marker: { size: 0.1, color: "#e4572e" } },
      // Last, so the traces above keep the indices restyle uses.
      markers(improved, "improver changed", { symbol: "diamond-open", size: 18, color: "#8e44ad", line: { width: 2 } }),
    ];
    const layout = {
      margin: { l: 40, r: 10, t: 10, b: 30 }, showlegend: false, hovermode: "closest", dragmode: "pan",
      xaxis: { visible: false, zeroline: false },
      yaxis: { title: { text: "generation" }, autorange: "reversed", zeroline: false, tick0: 0,
        dtick: Math.max(1, Math.ceil(nodes.y.reduce((a, b) => Math.max(a, b), 0) / 12)) },
    };
    Plotly.newPlot(treeDiv, traces, layout, PLOT_CONFIG);
    treeDiv.on("plotly_click", (event) => {
      const point = event.points.find((p) => p.customdata !== undefined);
      if (point) select(point.customdata);
    });
    const selectBox = document.getElementById("colour");
    for (const [label, key] of COLOURS) selectBox.append(el("option", { value: key }, label));
    selectBox.addEventListener("change", () => {
      const label = COLOURS.find((c) => c[1] === selectBox.value)[0];
      Plotly.restyle(treeDiv, { "marker.color": [colourValues(selectBox.value)], "marker.colorbar.title.text": label }, [3]);
    });
  }

  function pathTo(id) {
    // Along the drawn elbows: up from each node to the level between it and its parent, across, then up.
    const x = [], y = [];
    for (let at = id; at !== null && index.has(at); at = nodes.parent[index.get(at)]) {
      const i = index.get(at), p = nodes.parent[i];
      x.push(nodes.x[i]); y.push(nodes.y[i]);
      if (p !== null && index.has(p)) {
        const j = index.get(p);
        x.push(nodes.x[i], nodes.x[j]); y.push(nodes.y[j] + 0.5, nodes.y[j] + 0.5);
      }
    }
    return { x, y };
  }

  // ---- node details ----------------------------------------------------------------------------------------------

  function nodeButton(id) {
    return el("button", { class: "link", type: "button", onclick: () => select(id) }, `node ${id}`);
  }

  function diffView(text) {
    const pre = el("pre", { class: "diff" });
    for (const line of text.split("\n")) {
      const cls = line.startsWith("+") && !line.startsWith("+++") ? "add"
        : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : null;
      pre.append(cls ? el("span", { class: cls }, line) : document.createTextNode(line + "\n"));
    }
    return pre;
  }

  function select(id) {
    if (!index.has(id)) return;
    const i = index.get(id), d = data.details[String(id)];
    const panel = document.getElementById("details");
    panel.replaceChildren();
    const title = el("h2", {}, `node ${id}`);
    if (id === run.best) title.append(" ", el("span", { class: "best" }, "★ best belief"));
    panel.append(title);
    const facts = el("dl", {});
    const add = (k, ...v) => facts.append(el("dt", {}, k), el("dd", {}, ...v));
    add("parent", nodes.parent[i] === null ? "none (the seed agent)" : nodeButton(nodes.parent[i]));
    add("generation", String(nodes.y[i]));
    add("status", nodes.failed[i] ? "failed self-modification" : nodes.n[i] ? "evaluated" : "not evaluated yet");
    if (nodes.improver && nodes.improver[i]) add("improver", "changed: this node improves itself differently from its parent");
    const kids = children.get(id) || [];
    add("children", kids.length ? kids.slice(0, 40).map(nodeButton) : "none", kids.length > 40 ? ` … ${kids.length - 40} more` : "");
    panel.append(facts);

    const why = el("dl", { id: "why" });
    if (d.reason) why.append(el("dt", {}, "reason"), el("dd", { class: "reason" }, d.reason));
    for (const [label, value] of d.story) why.append(el("dt", {}, label), el("dd", {}, value));
    panel.append(el("h3", {}, nodes.failed[i] ? "why it failed" : "why it was made"));
    panel.append(why.childElementCount ? why : el("p", { class: "muted" }, nodes.parent[i] === null ? "The seed agent." : "No diagnosis was recorded."));

    if (!nodes.failed[i]) {
      panel.append(el("h3", {}, "score"));
      const score = el("dl", {});
      const row = (k, v) => score.append(el("dt", {}, k), el("dd", {}, v));
      row("own", nodes.n[i] ? `${nodes.s[i]}/${nodes.n[i]} solved (${fixed(nodes.mean[i], 2)})` : "not evaluated");
      if (nodes.n[i]) row("lower bound", fixed(nodes.lower[i], 3));
      row("clade (CMP)", `${fixed(nodes.cmp[i], 2)} over ${nodes.clade_n[i]} evaluations`);
      if (nodes.q[i] !== null) row("true quality", fixed(nodes.q[i], 3));
      panel.append(score);
    }
    if (d.costs.length) panel.append(el("h3", {}, "cost by role"), costTable(d.costs));
    panel.append(el("h3", {}, `evaluations (${d.evals.length})`));
    const chips = el("div", { id: "evals" });
    for (const [task, outcome, error] of d.evals) {
      chips.append(el("span", { class: `chip ${outcome}`, title: error ? `${outcome}: ${error}` : outcome }, task));
    }
    panel.append(d.evals.length ? chips : el("p", { class: "muted" }, "none"));
    if (d.diff) panel.append(el("h3", {}, `diff against node ${nodes.parent[i]}`), diffView(d.diff));
    if (d.commit) panel.append(el("p", { class: "muted" }, `lineage commit ${d.commit}`));

    const path = pathTo(id);
    Plotly.restyle(treeDiv, { x: [path.x], y: [path.y], "marker.size": [path.x.map((_, k) => (k ? 0.1 : 16))],
      "marker.symbol": [path.x.map(() => "circle-open")] }, [5]);
    history.replaceState(null, "", `#node-${id}`);
  }

  // ---- curves and the solve matrix -------------------------------------------------------------------------------

  function curves() {
    const h = data.history;
    const hoverNodes = h.node.map((n) => `best belief: node ${n}`);
    const lines = [
      { x: h.evals, y: h.lower, name: "lower bound", type: "scatter", mode: "lines", text: hoverNodes, line: { color: "#2563eb" } },
      { x: h.evals, y: h.mean, name: "own mean", type: "scatter", mode: "lines", text: hoverNodes, line: { color: "#93c5fd", dash: "dot" } },
    ];
    if (h.q.length) {
      lines.push({ x: h.evals, y: h.q, name: "true quality", type: "scatter", mode: "lines", text: hoverNodes, line: { color: "#16a34a" } });
      lines.push({ x: h.evals, y: h.best_q, name: "best true quality in the tree", type: "scatter", mode: "lines", line: { color: "#86efac", dash: "dash" } });
    }
    const axes = { margin: { l: 50, r: 10, t: 10, b: 40 }, xaxis: { title: { text: "evaluations" } }, legend: { orientation: "h", y: -0.25 } };
    Plotly.newPlot("history", lines, { ...axes, yaxis: { range: [0, 1.02], title: { text: "success rate" } } }, PLOT_CONFIG);
    const free = h.cost.every((c) => c === 0);
    const note = free ? [{ text: "no cost recorded (a scripted or simulated model)", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }] : [];
    Plotly.newPlot("cost", [{ x: h.evals, y: h.cost, type: "scatter", mode: "lines", fill: "tozeroy", line: { color: "#f59e0b" }, name: "USD" }],
      { ...axes, annotations: note, yaxis: { title: { text: "USD" }, rangemode: "tozero" } }, PLOT_CONFIG);
  }

  function matrix() {
    const m = data.matrix;
    const div = document.getElementById("matrix");
    if (!m.nodes.length) {
      div.replaceWith(el("p", { class: "muted" }, "No node has been evaluated yet."));
      return;
    }
    if (m.more_tasks) document.getElementById("matrix-title").append(` (first ${m.tasks.length} tasks; ${m.more_tasks} more not shown)`);
    const label = (id) => `node ${id}` + (id === run.best ? " ★" : "");
    const names = { 1: "solved", 0: "failed", "-1": "error" };
    const text = m.z.map((row, r) => row.map((v, c) => escapeText(`${label(m.nodes[r])} · ${m.tasks[c]}: ${v === null ? "not run" : names[v]}`)));
    const trace = {
      z: m.z, x: m.tasks.map((t, c) => c), y: m.nodes.map((id) => label(id)), text, type: "heatmap",
      hovertemplate: "%{text}<extra></extra>", showscale: false, zmin: -1, zmax: 1,
      colorscale: [[0, "#9ca3af"], [0.33, "#9ca3af"], [0.34, "#f3a1a1"], [0.66, "#f3a1a1"], [0.67, "#2e9d4f"], [1, "#2e9d4f"]],
    };
    // Past a few dozen tasks their names cannot be read side by side: then only the hover names them.
    const named = m.tasks.length <= 60;
    if (named) Object.assign(trace, { xgap: 2, ygap: 2 });
    const short = (t) => (t.length > 28 ? t.slice(0, 27) + "…" : t);
    Plotly.newPlot(div, [trace], {
      height: (named ? 180 : 70) + m.nodes.length * 22,
      margin: { l: 90, r: 10, t: 10, b: named ? 150 : 40 },
      xaxis: named ? { tickvals: m.tasks.map((t, c) => c), ticktext: m.tasks.map((t) => escapeText(short(t))),
        tickangle: -45, automargin: true, showgrid: false, zeroline: false } : { title: { text: `${m.tasks.length} tasks (hover for names)` },
        showticklabels: false, showgrid: false, zeroline: false },
      yaxis: { autorange: "reversed", showgrid: false },
    }, PLOT_CONFIG);
    div.on("plotly_click", (event) => select(m.nodes[event.points[0].pointNumber[0]]));
  }

  // ---- start -----------------------------------------------------------------------------------------------------

  summary();
  tree();
  curves();
  matrix();
  const goto = document.getElementById("goto");
  goto.addEventListener("change", () => select(Number(goto.value)));
  document.getElementById("show-best").addEventListener("click", () => run.best !== null && select(run.best));
  const wanted = /^#node-(\d+)$/.exec(location.hash);
  if (wanted) select(Number(wanted[1]));
  document.body.dataset.ready = "1";
})();
