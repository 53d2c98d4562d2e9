// The nnscratch playground page: settings <-> URL hash, the WebSocket to the Python trainer, and
// drawing each frame it sends (at most once per animation frame).
"use strict";

const $ = id => document.getElementById(id);
const state = {
  schema: null, settings: {}, playing: false, upload: null, ws: null, ready: false,
  data: null, frame: null, dirty: false, nodes: [],
};
window.playgroundStats = { frames: 0, messages: 0 };  // read by the benchmark and the tests

// ----- settings and the URL hash ------------------------------------------------------------
function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const settings = Object.assign({}, state.schema.defaults);
  for (const key of Object.keys(settings)) if (params.has(key)) settings[key] = params.get(key);
  return { settings, play: params.get("play") === "1", discretize: params.get("discretize") === "1",
           showTest: params.get("test") === "1" };
}

function writeHash() {
  const params = new URLSearchParams();
  for (const key of Object.keys(state.schema.defaults)) params.set(key, state.settings[key]);
  if ($("discretize").checked) params.set("discretize", "1");
  if ($("show-test").checked) params.set("test", "1");
  if (state.playing) params.set("play", "1");
  history.replaceState(null, "", "#" + params.toString().replace(/%2C/g, ","));
}

function layers() { return state.settings.layers ? state.settings.layers.split(",").map(Number) : []; }
function acts() {
  const given = state.settings.acts ? state.settings.acts.split(",") : [];
  return given.length === layers().length ? given : layers().map(() => state.settings.activation);
}

function fillSelect(select, options, labels) {
  select.innerHTML = "";
  for (const value of options) {
    const opt = document.createElement("option");
    opt.value = value; opt.textContent = labels ? labels[value] : value;
    select.appendChild(opt);
  }
}

const SIMPLE_KEYS = ["dataset", "classes", "noise", "ratio", "batch", "seed", "preprocess", "activation", "init",
                     "optimizer", "lr", "schedule", "steps", "reg", "rate", "dropout"];

function buildControls() {
  const { choices, features, limits } = state.schema;
  for (const [key, options] of Object.entries(choices)) fillSelect($("set-" + key), options);
  fillSelect($("set-classes"), Array.from({ length: limits.classes - 1 }, (_, i) => String(i + 2)));
  for (const [name, label] of Object.entries(features)) {
    const l = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox"; box.value = name; box.dataset.feature = name;
    box.addEventListener("change", () => {
      const chosen = [...document.querySelectorAll("[data-feature]")].filter(b => b.checked).map(b => b.value);
      if (!chosen.length) { box.checked = true; return showMessage("keep at least one input feature"); }
      change("features", chosen.join(","));
    });
    l.append(box, " " + label); $("set-features").appendChild(l);
  }
  for (const key of SIMPLE_KEYS) {
    $("set-" + key).addEventListener("change", e => {
      if (key === "activation") state.settings.acts = "";  // one activation for the network again
      change(key, e.target.value);
    });
  }
  $("new-seed").onclick = () => change("seed", String(Math.floor(Math.random() * 1e6)));
  $("add-layer").onclick = () => { if (layers().length < limits.layers) setLayers([...layers(), 4], [...acts(), state.settings.activation]); };
  $("remove-layer").onclick = () => { if (layers().length) setLayers(layers().slice(0, -1), acts().slice(0, -1)); };
  $("discretize").onchange = () => { writeHash(); state.dirty = true; };
  $("show-test").onchange = () => { writeHash(); state.dirty = true; };
  $("play").onclick = () => setPlaying(!state.playing);
  $("step").onclick = () => { setPlaying(false); send({ cmd: "step" }); };
  $("reset").onclick = () => configure();
  $("csv").onchange = uploadCSV;
  window.addEventListener("hashchange", () => { applyHash(); configure(); });
  window.addEventListener("resize", () => { state.dirty = true; });
}

function showSettings() {
  for (const key of SIMPLE_KEYS) $("set-" + key).value = state.settings[key];
  $("noise-value").textContent = state.settings.noise;
  $("ratio-value").textContent = state.settings.ratio;
  const chosen = state.settings.features.split(",");
  document.querySelectorAll("[data-feature]").forEach(b => { b.checked = chosen.includes(b.value); });
  $("layer-count").textContent = `${layers().length} hidden layer${layers().length === 1 ? "" : "s"}`;
}

function applyHash() {
  const h = readHash();
  state.settings = h.settings;
  $("discretize").checked = h.discretize;
  $("show-test").checked = h.showTest;
  state.playing = h.play;
  showSettings();
}

function change(key, value) {
  state.settings[key] = value;
  showSettings(); writeHash(); configure();
}

function setLayers(units, activations) {
  state.settings.layers = units.join(",");
  state.settings.acts = activations.every(a => a === state.settings.activation) ? "" : activations.join(",");
  showSettings(); writeHash(); configure();
}

// ----- talking to the trainer ---------------------------------------------------------------
function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function configure() {
  showMessage("");
  send({ cmd: "config", settings: state.settings, upload: state.upload });
  if (state.playing) send({ cmd: "play" });
}

function setPlaying(playing) {
  state.playing = playing;
  $("play").textContent = playing ? "❚❚ pause" : "▶ play";
  send({ cmd: playing ? "play" : "pause" });
  writeHash();
}

function showMessage(text) { $("message").textContent = text; }

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => { configure(); setPlaying(state.playing); };
  ws.onmessage = event => {
    const message = JSON.parse(event.data);
    window.playgroundStats.messages++;
    if (message.type === "error") { showMessage(message.message); if (state.playing) setPlaying(false); }
    else if (message.type === "data") { state.data = message; state.frame = null; buildNetwork(message); }
    else if (message.type === "frame") { state.frame = message; state.dirty = true; }
  };
  ws.onclose = () => {
    if (state.ws === ws) showMessage("the connection to the playground server closed; restart `nnscratch playground` and reload");
  };
}

// A page left for another (or kept in the back-forward cache) must stop its training on the
// server, or every page ever opened keeps a share of the CPU; coming back reconnects.
window.addEventListener("pagehide", () => {
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close();
});
window.addEventListener("pageshow", event => { if (event.persisted && !state.ws) connect(); });

async function uploadCSV() {
  const file = $("csv").files[0];
  if (!file) return;
  if (file.size > 1024 * 1024) return showMessage(`${file.name} is larger than 1 MiB; keep at most 10,000 rows`);
  let result;
  try {  // the file's own bytes: file.text() turned bytes that are not UTF-8 into U+FFFD before the server's check
    const response = await fetch("/api/csv", { method: "POST", body: file, headers: { "Content-Type": "text/csv" } });
    result = await response.json();
  } catch (error) {  // the server is gone, or answered something other than JSON
    $("csv").value = "";
    return showMessage(`${file.name}: the upload failed (${error.message}); check that nnscratch playground still runs, then reload the page`);
  }
  if (result.error) { $("csv").value = ""; return showMessage(`${file.name}: ${result.error}`); }
  state.upload = result.id;
  showMessage(`${file.name}: ${result.rows} rows, classes ${result.classes.join(", ")}`);
  state.settings.dataset = "csv";
  showSettings(); writeHash();
  send({ cmd: "config", settings: state.settings, upload: state.upload });
  if (state.playing) send({ cmd: "play" });
}

// ----- the network diagram ------------------------------------------------------------------
function column(title) {
  const col = document.createElement("div"), head = document.createElement("div");
  col.className = "column"; head.className = "head"; head.append(title);
  col.appendChild(head);
  return [col, head];
}

function neuronCanvas(col, title) {
  const c = document.createElement("canvas");
  c.width = c.height = 40; c.className = "neuron"; c.title = title; c.dataset.testid = "neuron";
  c.setAttribute("data-testid", "neuron");
  c.addEventListener("mouseenter", e => showZoom(c, e)); c.addEventListener("mousemove", e => showZoom(c, e));
  c.addEventListener("mouseleave", () => { $("zoom").hidden = true; });
  col.appendChild(c);
  return c;
}

function showZoom(canvas, e) {
  const zoom = $("zoom");
  zoom.hidden = false; zoom.style.left = `${e.clientX + 16}px`; zoom.style.top = `${e.clientY + 16}px`;
  const ctx = zoom.getContext("2d"); ctx.imageSmoothingEnabled = false;
  ctx.drawImage(canvas, 0, 0, zoom.width, zoom.height);
}

function buildNetwork(data) {
  const columns = $("columns"); columns.innerHTML = ""; state.nodes = [];
  const [inCol] = column("inputs");
  state.nodes.push(data.features.map(f => {
    const c = neuronCanvas(inCol, f); const l = document.createElement("span");
    l.className = "feature-label"; l.textContent = state.schema.features[f]; inCol.appendChild(l); return c;
  }));
  columns.appendChild(inCol);
  const units = layers(), activations = acts();
  units.forEach((n, li) => {
    const [col, head] = column("");
    const minus = document.createElement("button"), plus = document.createElement("button");
    minus.textContent = "−"; plus.textContent = "+";
    minus.onclick = () => { const u = layers(); if (u[li] > 1) { u[li]--; setLayers(u, acts()); } };
    plus.onclick = () => { const u = layers(); if (u[li] < state.schema.limits.units) { u[li]++; setLayers(u, acts()); } };
    const select = document.createElement("select");
    fillSelect(select, state.schema.choices.activation); select.value = activations[li];
    select.dataset.layer = li;
    select.onchange = () => { const a = acts(); a[li] = select.value; setLayers(layers(), a); };
    head.append(minus, ` ${n} `, plus, document.createElement("br"), select);
    state.nodes.push(Array.from({ length: n }, (_, j) => neuronCanvas(col, `layer ${li + 1}, unit ${j + 1}`)));
    columns.appendChild(col);
  });
  const [outCol] = column("output");
  state.nodes.push(Array.from({ length: data.outputs }, (_, k) => {
    const dot = document.createElement("div"); dot.className = "neuron"; dot.style.borderRadius = "50%";
    dot.title = data.regression ? "prediction" : `class ${data.class_names ? data.class_names[k] : k}`;
    outCol.appendChild(dot); return dot;
  }));
  columns.appendChild(outCol);
  $("space").hidden = true;
  state.dirty = true;
}

// ----- drawing a frame ----------------------------------------------------------------------
function fmt(x) { return x === null ? "–" : x.toFixed(3); }

function draw() {
  requestAnimationFrame(draw);
  const frame = state.frame, data = state.data;
  if (!state.dirty || !frame || !data) return;
  state.dirty = false;
  window.playgroundStats.frames++;
  $("epoch").textContent = Math.floor(frame.epoch);
  $("train-loss").textContent = fmt(frame.train_loss);
  $("test-loss").textContent = fmt(frame.test_loss);
  $("lr-now").textContent = frame.lr.toPrecision(3);
  const discretize = $("discretize").checked;
  Draw.output($("output"), frame.output, discretize);
  Draw.points($("output"), data, $("show-test").checked ? ["train", "test"] : ["train"]);
  frame.inputs.forEach((m, i) => state.nodes[0][i] && Draw.valueMap(state.nodes[0][i], m, false));
  frame.neurons.forEach((layer, li) => layer.forEach((m, j) => {
    const c = state.nodes[li + 1] && state.nodes[li + 1][j];
    if (c) Draw.valueMap(c, m, false);
  }));
  const gradients = Array.isArray(frame.grads);
  $("links-legend").textContent = gradients ? "links: the last step's gradients (dashed)" : "links: weights (blue +, orange −)";
  Draw.links($("links"), state.nodes, gradients ? frame.grads : frame.weights, gradients);
  Draw.lossCurve($("loss-curve"), frame.history);
  drawHistograms(frame.histograms);
  $("space").hidden = !frame.space;
  if (frame.space) {
    $("space-layer").textContent = frame.space.layer + 1;
    Draw.space($("space-view"), frame.space, data.regression);
  }
}

function drawHistograms(histograms) {
  const box = $("histograms");
  while (box.children.length > histograms.length) box.lastChild.remove();
  while (box.children.length < histograms.length) {
    const fig = document.createElement("figure"), c = document.createElement("canvas"), cap = document.createElement("figcaption");
    c.width = 96; c.height = 56; fig.append(c, cap); box.appendChild(fig);
  }
  histograms.forEach((h, i) => {
    const fig = box.children[i];
    fig.lastChild.textContent = `layer ${i + 1} (${acts()[i] || ""})`;
    Draw.histogram(fig.firstChild, h);
  });
}

async function start() {
  state.schema = await (await fetch("/api/settings")).json();
  buildControls();
  applyHash();
  writeHash();
  connect();
  requestAnimationFrame(draw);
}

start();
