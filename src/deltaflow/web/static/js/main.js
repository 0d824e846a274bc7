// The page: one session over one socket; the server's `state` rebuilds the views, each
// binary frame updates them (newest frame wins, drawn once per animation frame, then acked).
import { createCharts, frameMetrics } from "./charts.js";
import { createCompare } from "./compare.js";
import { createControls } from "./controls.js";
import { createDataPanel, csvName } from "./datapanel.js";
import { createConfusion } from "./confusion.js";
import { createDigits } from "./digits.js";
import { withActivation, withFeatureToggled, withLayers, withNeurons } from "./edits.js";
import { setPath } from "./fields.js";
import { createGradflow } from "./gradflow.js";
import { createOutputHeatmap } from "./heatmap.js";
import { createLearn } from "./learn/learn.js";
import { createMaths } from "./maths.js";
import { createModeToggle } from "./netmode.js";
import { createNetwork } from "./network.js";
import { showProjection } from "./projnote.js";
import { showError, tooltip } from "./notices.js";
import { downloadConfig, downloadModel, readHash, writeHash } from "./share.js";
import { connect } from "./socket.js";
import { createTabs } from "./tabs.js";
import { createTimeline } from "./timeline.js";
import { alarmText, dataView, featureInputs, layerName, outputMap, neuronMaps, runText, showAlarm, stale, statusText } from "./views.js";

const $ = (id) => document.getElementById(id);
const app = { hello: null, state: null, config: null, grid: null, speed: null, clickClass: 0, pending: null, lastId: 0, lastStep: -1, scheduled: false, dropped: 0, drawn: 0 };

function send(msg) {
  socket.send(msg);
  compare.mirror(msg);
}

function sendConfig(config, grid = app.grid, pauseAt = null) {
  showError("");
  send({ type: "config", config, grid: fitGrid(grid), ...(pauseAt ? { pause_at: pauseAt } : {}) });
}

/** A grid the server accepts: 0 (no maps) or within its limits (a preset may ask for more). */
function fitGrid(grid) {
  const lim = app.hello && app.hello.limits;
  if (!lim || !grid) return grid;
  return Math.max(lim.min_grid, Math.min(lim.max_grid, grid));
}

/** Send the config `make()` returns (none: nothing to change); its Error's message is shown instead. */
function tryEdit(make) {
  let next;
  try {
    next = make();
  } catch (err) {
    return showError(err.message);
  }
  if (next) sendConfig(next);
}

/** Change one field of the current config and send the whole config. */
function edit(path, value) {
  const next = structuredClone(app.config);
  setPath(next, path, value);
  sendConfig(next);
}

const network = createNetwork($("network"), {
  tooltip,
  onToggleFeature: (name) => tryEdit(() => withFeatureToggled(app.config, app.state, name, app.hello.features)),
  onNeurons: (l, delta) => tryEdit(() => withNeurons(app.config, l, delta, app.hello.limits)),
  onActivation: (l, name) => tryEdit(() => withActivation(app.config, app.state, l, name)),
  onEditWeight(l, i, j, value) {
    timeline.goLive(); // the edit is to today's weights: show them
    send({ type: "set_weight", layer: l, row: i, column: j, value });
  },
  onEditBias(l, i, value) {
    timeline.goLive();
    send({ type: "set_weight", layer: l, row: i, bias: true, value });
  },
  onHoverNeuron: hoverNeuron,
});

const controls = createControls({
  onConfig: edit,
  onSpeed(n) {
    app.speed = n;
    send({ type: "speed", steps_per_frame: n });
  },
  onPlay() {
    timeline.goLive();
    send({ type: app.state && app.state.running ? "pause" : "play" });
  },
  onStep() {
    timeline.goLive();
    send({ type: "step", n: 1 });
  },
  onReset() {
    showError("");
    send({ type: "reset" });
  },
  onLayers: (delta) => tryEdit(() => withLayers(app.config, app.state, delta, app.hello.limits, defaultActivation())),
  onOutputOptions(opts) {
    output.setOptions(opts);
  },
});

const dataPanel = createDataPanel({
  onConfig: edit,
  onDataset(name) {
    const next = structuredClone(app.config);
    // a 2-D set's G is cells per side of G² maps, a 1-D set's is points of a curve: each has its own default
    const dims = (n) => (datasetInfo(n)?.kind === "function" ? 1 : 2);
    if (dims(name) !== app.state.data.dims) app.grid = dims(name) === 1 ? app.hello.defaults.curve_grid : app.hello.defaults.grid;
    const regression = (n) => datasetInfo(n)?.task === "regression";
    const wasRegression = regression(next.data.name);
    Object.assign(next.data, { name, noise: null, n_samples: null, features: null, path: null, target: null, task: null });
    if (wasRegression !== regression(name)) next.loss = null;
    sendConfig(next);
  },
  onRegenerate: () => send({ type: "regenerate" }),
  onCsv: (text, name) => send({ type: "upload_csv", text, name: csvName(name), target: null }),
  onClickClass(k) {
    app.clickClass = k;
    output.setOptions({ clickClass: k });
  },
  onPreset(p) {
    if (p.grid !== undefined && p.grid !== null) app.grid = p.grid;
    sendConfig(p.config, app.grid, p.pause_at);
  },
  onDownloadConfig: () => downloadConfig(app.config),
  onUploadConfig: (text) => send({ type: "import_config", text, grid: fitGrid(app.grid) }),
  onDownloadModel: () => downloadModel(app.hello.session, app.config),
  onCopyLink: () => navigator.clipboard && navigator.clipboard.writeText(location.href).catch(() => {}),
});

const output = createOutputHeatmap($("output-heatmap"), {
  onAddPoint(x, y, k) {
    const d = app.state.data;
    if (d.projection) showError("a point of the PCA plane is not an example of the data: points cannot be added to this set");
    else if (d.task === "classification") send({ type: "add_point", x1: x, x2: y, label: k });
    else if (d.dims === 1) send({ type: "add_point", x1: x, value: y });
    else showError("points of a 2-D regression set cannot be added by clicking (they need a value)");
  },
  onPick: (split, index) => send({ type: "explain", split, index }),
});
output.setOptions({ clickClass: 0 });
const charts = createCharts($("numbers"), $("charts"));
const gradflow = createGradflow($("gradflow"));
// scrubbing pauses training and asks for a recorded frame; live frames wait (app.live) until back to live
const timeline = createTimeline($("timeline"), {
  onScrub(step) {
    if (app.state && app.state.running) send({ type: "pause" });
    if (app.state) app.state.running = false;
    controls.setPlaying(false);
    send({ type: "replay", step });
  },
  onLive: () => app.live && render(app.live),
});
$("step-count").after(timeline.badge);
const compare = createCompare(gradflow.compareSlot, {
  config: () => app.config,
  speed: () => app.speed,
  running: () => Boolean(app.state && app.state.running),
  restart() {
    send({ type: "pause" });
    send({ type: "reset" });
  },
  onStart: (label) => charts.setOverlay(label),
  onFrame(f, flags, label) {
    charts.overlay(f.step, frameMetrics(f, flags));
    if (f.flags & flags.HAS_STATS) gradflow.compare(f, label);
  },
  onStop() {
    charts.setOverlay(null);
    gradflow.compare(null);
  },
  showError,
});
const maths = createMaths($("maths"), {
  onExplain: (index) => send({ type: "explain", split: "train", index }),
  onLayer: (l) => network.highlightLayer?.(l),
});
const lowerTabs = createTabs(document.querySelector(".lower [role=tablist]"));
const digits = createDigits($("tab-digits"), $("digits-panel"), { send, onShown: () => lowerTabs.select("tab-digits"),
  onMaths(r) {
    lowerTabs.select("tab-maths");
    maths.show({ split: "drawn", title: `Your drawing, read as a ${r.predicted} (the target of its backward pass): x = its 64 block counts`, explanation: r.explain });
  } });
const confusion = createConfusion($("tab-confusion"), $("confusion-panel"), { onShown: () => lowerTabs.select("tab-confusion") });

const netMode = createModeToggle($("net-mode"), (mode) => {
  netMode.set(mode);
  network.setMode(mode);
});
netMode.set("forward");
$("settings-toggle").addEventListener("click", (e) => {
  const open = document.querySelector(".topbar").classList.toggle("settings-open");
  e.currentTarget.setAttribute("aria-expanded", String(open));
});

function onState(s) {
  app.state = s;
  app.pending = app.live = null; // a frame of the previous state, not drawn yet
  timeline.reset();
  app.config = s.config;
  dataPanel.story.state(s);
  if (s.grid !== undefined) app.grid = s.grid;
  app.speed = s.speed.steps_per_frame;
  const data = dataView(s);
  controls.sync(s.config, app.speed);
  controls.setPlaying(s.running);
  app.clickClass = Math.min(app.clickClass, Math.max(0, s.data.n_classes - 1));
  const info = datasetInfo(s.config.data.name);
  dataPanel.sync(s.config, { task: s.data.task, nClasses: s.data.n_classes, clickClass: app.clickClass,
    noise: info?.noise ?? 0, maxNoise: info?.max_noise ?? null, fixed: info?.kind === "real", projection: s.data.projection });
  showProjection($("projection-note"), s.data);
  output.setOptions({ clickClass: app.clickClass });
  app.inputs = featureInputs(s, data.extent, app.hello.features);
  network.setArchitecture({
    inputs: app.inputs,
    togglable: s.data.dims === 2 && s.config.data.name !== "csv" && !s.data.projection,
    hidden: s.network.layers.slice(0, -1).map((u) => u.n_out),
    activations: s.network.layers.map((u) => u.activation),
    activationChoices: app.hello.activations,
    nOut: s.network.n_out,
  });
  output.setData(data);
  charts.reset(s.data.task === "classification", s.data.metric);
  gradflow.build(s.network.layers.map(layerName), app.hello.frame.vanishing_ratio);
  maths.setTrainSize(data.train.y.length);
  $("step-count").textContent = s.step.toLocaleString();
  $("epoch-count").textContent = String(s.epoch);
  app.lastStep = app.gradStep = -1;
  setAlarm(null);
  app.alarmDetail = "";
  if (!learn.active()) writeHash(s.config, app.grid); // in Learn mode the URL names the chapter
  compare.sync(s.config);
  learn.state(s);
  for (const v of [digits, confusion]) v.setState(s);
}

/** Neuron j of unit layer c (0 = the inputs) is hovered, or none (c = null). */
function hoverNeuron(c, j) {
  app.hover = c === null || c === undefined ? null : { c, j };
  showHovered();
}

/** The hovered neuron's map a(x) large in the output view, or the prediction again when
 * none is hovered; redrawn with every frame while it is hovered. */
function showHovered() {
  const h = app.hover;
  const map = !h ? null : h.c === 0 ? app.inputs[h.j]?.heatmap : app.maps?.[h.c - 1]?.[h.j];
  if (!map) return output.showNeuronMap(null);
  const last = h.c === app.state.network.layers.length;
  output.showNeuronMap(map, h.c === 0 ? `input ${app.inputs[h.j].label}` : `layer ${h.c}${last ? " · output" : ""}, neuron ${h.j + 1}: a(x)`);
}

/** hello's description of the data set `name` (undefined for an upload). */
function datasetInfo(name) {
  return app.hello.datasets.find((d) => d.name === name);
}

/** The activation of a new hidden layer when there is none to copy: the default config's. */
function defaultActivation() {
  const act = app.hello.defaults.config.model.activation;
  return Array.isArray(act) ? act[0] : act;
}

const setAlarm = (alarm) => showAlarm($("alarm"), alarm);

function render(f) {
  const s = app.state;
  if (!s) return;
  const { flags: FLAGS, alarms: ALARMS, vanishing_ratio: vanishingRatio } = app.hello.frame;
  const replay = Boolean(f.flags & FLAGS.REPLAY); // a recorded frame: its past running state is not today's
  $("step-count").textContent = f.step.toLocaleString();
  $("epoch-count").textContent = String(f.epoch);
  $("lr-now").textContent = Number(f.lr.toPrecision(3)).toString();
  const running = !replay && Boolean(f.flags & FLAGS.RUNNING);
  if (!replay) s.running = running;
  if (!replay) controls.setPlaying(running);
  const maps = neuronMaps(f, s);
  app.maps = maps;
  app.frame = f; // the frame drawn last
  network.update({ step: f.step, layers: f.layers, heatmaps: { neurons: maps }, units: f.units });
  output.update(outputMap(f, s));
  if (app.hover) showHovered();
  for (const v of [digits, confusion]) v.update(f);
  const metrics = frameMetrics(f, FLAGS);
  if (!replay && f.step !== app.lastStep) {
    charts.update(f.step, metrics);
    app.lastStep = f.step;
  } else {
    charts.show(metrics); // the same step again (e.g. an edited weight) or a replay: new numbers, no new point
  }
  if (f.flags & FLAGS.HAS_STATS && (replay || f.step !== app.gradStep)) {
    gradflow.update(f);
    app.gradStep = replay ? -1 : f.step; // back from a replay, the live frame is drawn again
  }
  const code = ALARMS[f.alarm] || "none";
  const slowed = !replay && Boolean(f.flags & FLAGS.SLOWED);
  setAlarm(code === "none" && !slowed ? null : alarmText(code, f, s, vanishingRatio, app.alarmDetail, slowed));
  $("status-line").textContent = statusText(f, s, FLAGS);
  if (!replay) dataPanel.story.frame(f, FLAGS);
  if (!replay) learn.frame(f);
  const status = $("conn");
  status.dataset.done = String(Boolean(f.flags & FLAGS.DONE));
  status.textContent = runText(f, FLAGS, replay, running);
}

function drawPending() {
  app.scheduled = false;
  const f = app.pending;
  if (!f) return;
  app.pending = null;
  app.live = f;
  timeline.setLive(f.step);
  if (!timeline.replaying()) {
    render(f);
    app.drawn += 1; // frames drawn, for benchmarks/bench_page.py
  }
  if (document.visibilityState === "visible") socket.ack(f.frameId);
}

function schedule() {
  if (app.scheduled || document.visibilityState !== "visible") return;
  app.scheduled = true;
  requestAnimationFrame(drawPending);
}

// a hidden tab stops acknowledging, so the server stops sending; showing it again asks for more
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  if (app.pending) schedule();
  else if (app.lastId) socket.ack(app.lastId);
});

const learn = createLearn({
  root: $("learn"),
  toggle: $("learn-toggle"),
  send,
  hello: () => app.hello,
  openSimulator: (config, grid, pauseAt) => sendConfig(config, grid ?? app.grid, pauseAt),
  onLeave: () => app.config && writeHash(app.config, app.grid),
});

const socket = connect({
  onStatus(status, e) {
    const dot = $("conn");
    dot.className = `dot ${status}`;
    if (status === "closed" && e && app.hello && e.code === app.hello.close_codes.idle) dot.textContent = "closed as idle — reload the page to start again";
    else dot.textContent = status === "open" ? "connected" : status === "closed" ? `disconnected${e && e.reason ? `: ${e.reason}` : ""}` : "connecting…";
  },
  onMessage(msg) {
    if (learn.receive(msg)) return;
    if (msg.type === "hello") {
      app.hello = msg;
      app.grid = msg.defaults.grid;
      app.speed = msg.defaults.speed.steps_per_frame;
      controls.setChoices(msg);
      dataPanel.setDatasets(msg.datasets);
      dataPanel.setPresets(msg.presets || []);
      const fromHash = readHash();
      if (fromHash) sendConfig(fromHash.config, fromHash.grid ?? app.grid);
      learn.start();
    } else if (msg.type === "state") {
      onState(msg);
    } else if (msg.type === "error") {
      if (msg.about === "explain") maths.showError(msg.message);
      if (msg.about === "replay") timeline.failed();
      showError(msg.message);
    } else if (msg.type === "full") {
      showError(msg.message || "the server is full; try again later");
    } else if (msg.type === "alarm") {
      app.alarmDetail = msg.message || "";
    } else if (msg.type === "explain") {
      lowerTabs.select("tab-maths");
      maths.show(msg);
      output.setExplained({ split: msg.split, index: msg.index });
    } else if (msg.type === "predict") {
      digits.predicted(msg);
    } else if (msg.type === "replay") {
      timeline.answer(msg);
    }
  },
  onFrame(f) {
    if (f.flags & app.hello.frame.flags.REPLAY) { // the answer to a replay: drawn if still wanted, never acked
      if (timeline.replaying()) render(f);
      timeline.shown();
      return;
    }
    app.lastId = f.frameId;
    if (!app.state || stale(f, app.state)) {
      app.dropped += 1;
      if (document.visibilityState === "visible") socket.ack(f.frameId); // credit for the frame of the new state
      return;
    }
    app.pending = f;
    schedule();
  },
});

window.deltaflow = { app, send, output, network, hoverNeuron, compare: compare.info, learn, digits };
