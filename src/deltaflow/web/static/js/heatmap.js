// The output view: the network's prediction over the input plane (or its curve for a 1-D
// function) with the training points (white rim) and the test points (black rim).
// A click adds a training point of the chosen class at that place.
import { classRgb, diverging, el, fmt, rgb } from "./util.js";

const SIZE = 300;

export function createOutputHeatmap(root, hooks) {
  const bg = el("canvas", { class: "bg", width: 1, height: 1 });
  const fg = el("canvas", { class: "points", width: SIZE * 2, height: SIZE * 2, "data-testid": "output-heatmap", "aria-label": "Output heatmap: click to add a point" });
  const axes = [el("span", { class: "axis", style: "left:2px;bottom:-14px" }), el("span", { class: "axis", style: "right:2px;bottom:-14px" })];
  root.append(bg, fg, ...axes);
  let data = null;
  let output = null;
  const options = { showTest: false, discretize: false, clickClass: 0 };

  // data coordinates ↔ canvas pixels (in the 2× canvas)
  const px = (x) => ((x - data.extent[0]) / (data.extent[1] - data.extent[0])) * SIZE * 2;
  const py = (y) => (1 - (y - data.extent[2]) / (data.extent[3] - data.extent[2])) * SIZE * 2;

  function paintBackground() {
    if (!output || !data || data.oneD) {
      bg.width = bg.height = 1;
      bg.getContext("2d").clearRect(0, 0, 1, 1);
      return;
    }
    const { w, h, k, values } = output;
    bg.width = w;
    bg.height = h;
    const ctx = bg.getContext("2d");
    const img = ctx.createImageData(w, h);
    const n = w * h;
    for (let i = 0; i < n; i++) {
      let c;
      if (k > 1) {
        // K classes: the colour of the most probable class, paler where the network is unsure
        let best = 0;
        for (let q = 1; q < k; q++) if (values[q * n + i] > values[best * n + i]) best = q;
        const p = values[best * n + i];
        const conf = options.discretize ? 1 : Math.max(0, (p - 1 / k) / (1 - 1 / k));
        c = classRgb(best).map((v) => Math.round(240 + (v - 240) * (0.15 + 0.75 * conf)));
      } else {
        let t = output.prob ? 2 * values[i] - 1 : values[i] / (Math.max(Math.abs(output.lo), Math.abs(output.hi)) || 1);
        if (options.discretize) t = t >= 0 ? 1 : -1;
        c = diverging(t * 0.85);
      }
      img.data.set([c[0], c[1], c[2], 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
  }

  function pointColour(y) {
    if (data.task === "classification") return rgb(classRgb(y));
    return rgb(diverging(y / (data.yScale || 1)));
  }

  function paintPoints() {
    const ctx = fg.getContext("2d");
    ctx.clearRect(0, 0, fg.width, fg.height);
    if (!data) return;
    if (data.oneD) return paintCurve(ctx);
    const sets = [[data.train, "#fff"], ...(options.showTest ? [[data.test, "#000"]] : [])];
    for (const [set, rim] of sets) {
      for (let i = 0; i < set.y.length; i++) {
        ctx.beginPath();
        ctx.arc(px(set.x[2 * i]), py(set.x[2 * i + 1]), 5, 0, 2 * Math.PI);
        ctx.fillStyle = pointColour(set.y[i]);
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = rim;
        ctx.stroke();
      }
    }
  }

  function paintCurve(ctx) {
    // a 1-D function: x on the horizontal axis, y vertically; points and the fitted curve
    ctx.strokeStyle = "#e3e7ea";
    ctx.beginPath();
    ctx.moveTo(0, py(0));
    ctx.lineTo(SIZE * 2, py(0));
    ctx.stroke();
    const sets = [[data.train, rgb(classRgb(1))], ...(options.showTest ? [[data.test, rgb(classRgb(0))]] : [])];
    for (const [set, colour] of sets) {
      ctx.fillStyle = colour;
      for (let i = 0; i < set.y.length; i++) {
        ctx.beginPath();
        ctx.arc(px(set.x[i]), py(set.y[i]), 4, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    if (!output) return;
    ctx.strokeStyle = "#183d4e";
    ctx.lineWidth = 4;
    ctx.beginPath();
    for (let i = 0; i < output.w; i++) {
      // curve point c is at x_lo + c·(x_hi − x_lo)/(G − 1), both ends included (protocol.py)
      const x = data.extent[0] + (i / Math.max(1, output.w - 1)) * (data.extent[1] - data.extent[0]);
      i ? ctx.lineTo(px(x), py(output.values[i])) : ctx.moveTo(px(x), py(output.values[i]));
    }
    ctx.stroke();
  }

  fg.addEventListener("click", (e) => {
    if (!data) return;
    const r = fg.getBoundingClientRect();
    const u = (e.clientX - r.left) / r.width, v = (e.clientY - r.top) / r.height;
    const x = data.extent[0] + u * (data.extent[1] - data.extent[0]);
    const y = data.extent[3] - v * (data.extent[3] - data.extent[2]);
    hooks.onAddPoint(x, y, options.clickClass);
  });

  return {
    /** d: {task, oneD, nClasses, extent: [x0, x1, y0, y1], train: {x, y}, test: {x, y}, yScale} */
    setData(d) {
      data = d;
      axes[0].textContent = fmt(d.extent[0], 2);
      axes[1].textContent = fmt(d.extent[1], 2);
      paintBackground();
      paintPoints();
    },
    /** hm: {w, h, k, values, lo, hi, prob}: k planes of class probabilities, or one value plane */
    update(hm) {
      output = hm;
      paintBackground();
      if (data && data.oneD) paintPoints();
    },
    setOptions(next) {
      Object.assign(options, next);
      paintBackground();
      paintPoints();
    },
  };
}
