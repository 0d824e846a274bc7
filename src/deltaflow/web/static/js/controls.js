// Training and network controls: the top bar (loss, optimiser, η, schedule, batch, L1/L2,
// clipping, initialiser, normalisation, dropout, seed, speed), play/pause/step/reset, the
// hidden-layer +/− buttons and the output view's options.
import { numberField, selectField } from "./fields.js";
import { menu } from "./labels.js";
import { el } from "./util.js";

const nums = (list) => list.map((v) => [v, String(v)]);
const LR = nums([0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]);
const REG = [[0, "0"], ...nums([0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1])];
export const SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200];

/** hooks: {onConfig(path, value), onSpeed(n), onPlay(), onStep(), onReset(), onLayers(delta), onOutputOptions(opts)};
 * the menus of the server's choices are filled by setChoices(hello). */
export function createControls(hooks) {
  const on = hooks.onConfig;
  const loss = selectField({ label: "Loss", path: "loss", testid: "loss", onChange: on });
  const optimizer = selectField({ label: "Optimiser", path: "optimizer.name", testid: "optimizer", onChange: on });
  const schedule = selectField({ label: "Schedule", path: "schedule.name", testid: "schedule", onChange: on });
  const init = selectField({ label: "Initialiser", path: "model.init", testid: "init", onChange: on });
  const norm = selectField({ label: "Normalisation", path: "model.norm", testid: "norm", onChange: on });
  const fields = [
    loss,
    optimizer,
    selectField({ label: "Learning rate", path: "optimizer.lr", numeric: true, testid: "lr", onChange: on, options: LR }),
    schedule,
    selectField({ label: "Batch size", path: "batch_size", numeric: true, testid: "batch-size", onChange: on, options: nums([1, 2, 4, 8, 10, 16, 32, 64, 128, 256, 512]) }),
    selectField({ label: "L1", path: "l1", numeric: true, testid: "l1", onChange: on, options: REG }),
    selectField({ label: "L2", path: "l2", numeric: true, testid: "l2", onChange: on, options: REG }),
    selectField({ label: "Clip ‖g‖", path: "clip_norm", numeric: true, testid: "clip-norm", onChange: on, options: [["", "none"], ...nums([0.1, 0.5, 1, 5, 10])] }),
    init,
    norm,
    selectField({ label: "Dropout", path: "model.dropout", numeric: true, testid: "dropout", onChange: on, options: nums([0, 0.1, 0.2, 0.3, 0.5]) }),
  ];
  const seed = numberField({ label: "Seed", path: "seed", min: 0, step: 1, testid: "seed", onChange: on });
  fields.push(seed);
  const speed = el("select", { id: "speed", "data-testid": "speed", onchange: (e) => hooks.onSpeed(Number(e.target.value)) },
    ...SPEEDS.map((s) => el("option", { value: s, text: `${s} step${s > 1 ? "s" : ""}/frame` })));
  const bar = document.getElementById("training-controls");
  bar.append(...fields.filter((f) => f !== seed).map((f) => f.node));
  document.getElementById("seed-box").append(...seed.node.childNodes);
  document.getElementById("speed-box").append(el("label", { for: "speed", text: "Speed" }), speed);

  const play = document.getElementById("play");
  play.addEventListener("click", () => hooks.onPlay());
  document.getElementById("step").addEventListener("click", () => hooks.onStep());
  document.getElementById("reset").addEventListener("click", () => hooks.onReset());
  document.addEventListener("keydown", (e) => {
    if (e.key === " " && e.target === document.body) {
      e.preventDefault();
      hooks.onPlay();
    }
  });

  const count = el("span", { class: "count", "data-testid": "layer-count" });
  document.getElementById("layer-controls").append(
    el("button", { type: "button", text: "+", "aria-label": "Add a hidden layer", "data-testid": "add-layer", onclick: () => hooks.onLayers(1) }),
    el("button", { type: "button", text: "−", "aria-label": "Remove a hidden layer", "data-testid": "remove-layer", onclick: () => hooks.onLayers(-1) }),
    count, el("span", { text: "hidden layers" }));

  const showTest = el("input", { type: "checkbox", "data-testid": "show-test" });
  const discretize = el("input", { type: "checkbox", "data-testid": "discretize" });
  const emit = () => hooks.onOutputOptions({ showTest: showTest.checked, discretize: discretize.checked });
  showTest.addEventListener("change", emit);
  discretize.addEventListener("change", emit);
  document.getElementById("output-options").append(
    el("label", {}, showTest, " Show test data"), el("label", {}, discretize, " Discretize output"));

  return {
    /** hello: the server's lists of losses, optimisers, schedules, initialisers and norms */
    setChoices(hello) {
      loss.setOptions([["", "auto"], ...menu("losses", hello.losses)]); // no loss: the task's default
      optimizer.setOptions(menu("optimizers", hello.optimizers));
      schedule.setOptions(menu("schedules", hello.schedules));
      init.setOptions(menu("initializers", hello.initializers));
      norm.setOptions(menu("norms", hello.norms));
    },
    sync(config, speedValue) {
      fields.forEach((f) => f.sync(config));
      count.textContent = String(config.model.hidden.length);
      speed.value = String(speedValue);
    },
    setPlaying(playing) {
      play.setAttribute("aria-label", playing ? "Pause" : "Play");
      play.classList.toggle("playing", playing);
    },
  };
}
