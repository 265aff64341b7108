// The jaxdigits explorer page: one time slider and one learning-rate dial drive five linked views
// of training runs.
//
// The data (jaxdigits.explorer.page_data) sits in <script id="run-data">: K runs from the same
// initial network at K learning rates, each with one parameter vector per frame (float16 or float32,
// meta.param_dtype), layer by layer: weights (n_in, n_out) row by row, then biases. The network's
// arithmetic (forward pass, cost, backpropagation) is makeNetwork in backprop.js. Everything is drawn
// on plain 2-D canvases (no library): the page stays small and works from file://.
//
// window.explorer is the small entry point the browser tests use (and a console user may):
//   forward(frame, pixels) -> activations of every layer (arrays), for one image;
//   mnistStyle(ink, rows, cols) -> the 28x28 image jaxdigits.data.mnist_style makes;
//   ink() -> {rows, cols, values} of the drawing pad; drawnPixels() -> its 28x28 image;
//   setFrame(i), frame(), frameCount, frameParams(i) (of the run shown), marker() -> the
//   trajectory marker's canvas position, path() -> the shown run's path on the contour map,
//   shownActivations() -> what the network panel shows;
//   runs() -> [{learning_rate, status, reason, blew_up, final_test_accuracy, final_test_cost}],
//   setRun(i), run() -> the run shown;
//   exampleLabel(k) -> the label of test example k ("draw": the label chosen for the drawing),
//   setDrawingLabel(d); batch() -> the mini-batch's example indices, setMode("one" | "batch");
//   gradient(k) -> {cost, gradient}: the cost of test example k (an array of indices: their mean;
//   "draw": the drawing; nothing: what the gradient panel shows) and its gradient, flat in
//   frameParams order, at the shown parameters (the frame of the run shown, or where step() went);
//   step() -> one gradient-descent step θ ← θ − η∇C with the dial's η from the shown parameters
//   and example(s): {learning_rate, cost_before, cost_after, test_cost_before, test_cost_after,
//   steps}; unstep() -> back to the frame; stepped() -> the parameters after the steps, or null.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("run-data").textContent);
  const meta = data.meta, sizes = meta.sizes;
  const [rows, cols] = meta.image_shape;
  const nPixels = rows * cols;
  const nameOf = (d) => (meta.classes ? meta.classes[d] : String(d));

  // ---- data: base64 little-endian arrays; a run's frames are decoded when first shown --------
  const net = makeNetwork(sizes, meta.activation, meta.cost);
  const nParams = net.count;
  const runs = data.runs, K = runs.length;
  const decoded = new Array(K).fill(null);
  const framesOfRun = (r) =>
    decoded[r] || (decoded[r] = (meta.param_dtype === "float16" ? float16s : float32s)(runs[r].params));
  const frameCount = data.frames.step.length;
  const exampleCount = data.examples.labels.length;
  const examplePixels = float32s(data.examples.pixels);
  const exampleOf = (k) => ({ pixels: examplePixels.subarray(k * nPixels, (k + 1) * nPixels), label: data.examples.labels[k] });
  const paramsOf = (f, r = state.run) => framesOfRun(r).subarray(f * nParams, (f + 1) * nParams);
  // The parameters the panels show: the frame's, or where "take one step" went from it.
  const shownParams = () => (state.stepped ? state.stepped.params : paramsOf(state.frame));

  // Activations of every layer for one image (input first), in float64.
  const forward = (frame, pixels) => net.pass(paramsOf(frame), pixels).a;

  // Weights of layer l (1-based, into layer l) of parameters p as a view: w(i, j) and its size.
  function layerWeights(p, l) {
    const o = net.offsets[l], nOut = sizes[l];
    return { w: (i, j) => p[o + i * nOut + j], nIn: sizes[l - 1], nOut };
  }

  // ---- MNIST-style preprocessing of a drawing (mirrors jaxdigits/preprocess.py) ---------------
  const SIDE = 28, BOX = 20;
  const roundHalfUp = (x) => Math.floor(x + 0.5);

  // (nOut x nIn) area-averaging weights: rows sum to 1.
  function areaWeights(nIn, nOut) {
    const width = nIn / nOut, w = [];
    for (let j = 0; j < nOut; j++) {
      const lo = j * width, row = new Float64Array(nIn);
      for (let i = 0; i < nIn; i++) row[i] = Math.max(0, Math.min(lo + width, i + 1) - Math.max(lo, i)) / width;
      w.push(row);
    }
    return w;
  }

  function mnistStyle(ink, h, w) {
    const out = new Float64Array(SIDE * SIDE);
    let top = h, bottom = -1, left = w, right = -1;
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        if (ink[i * w + j] > 0) {
          top = Math.min(top, i); bottom = Math.max(bottom, i);
          left = Math.min(left, j); right = Math.max(right, j);
        }
    if (bottom < 0) return Array.from(out);
    const bh = bottom - top + 1, bw = right - left + 1, scale = BOX / Math.max(bh, bw);
    const mh = Math.max(1, roundHalfUp(bh * scale)), mw = Math.max(1, roundHalfUp(bw * scale));
    const wy = areaWeights(bh, mh), wx = areaWeights(bw, mw);
    // small = wy · box · wxᵀ, done as two passes.
    const tmp = [];
    for (let a = 0; a < mh; a++) {
      const row = new Float64Array(bw);
      for (let i = 0; i < bh; i++) {
        const f = wy[a][i];
        if (f === 0) continue;
        for (let j = 0; j < bw; j++) row[j] += f * ink[(top + i) * w + left + j];
      }
      tmp.push(row);
    }
    const small = tmp.map((row) => wx.map((wrow) => wrow.reduce((s, f, j) => s + f * row[j], 0)));
    let mass = 0, cy = 0, cx = 0;
    for (let a = 0; a < mh; a++)
      for (let b = 0; b < mw; b++) {
        mass += small[a][b]; cy += small[a][b] * (a + 0.5); cx += small[a][b] * (b + 0.5);
      }
    const dy = roundHalfUp(SIDE / 2 - cy / mass), dx = roundHalfUp(SIDE / 2 - cx / mass);
    for (let a = 0; a < mh; a++)
      for (let b = 0; b < mw; b++) {
        const y = a + dy, x = b + dx;
        if (y >= 0 && y < SIDE && x >= 0 && x < SIDE) out[y * SIDE + x] = Math.min(1, Math.max(0, small[a][b]));
      }
    return Array.from(out);
  }

  // ---- colours ---------------------------------------------------------------------------------
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function viridis(t) {
    t = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
    const k = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - k;
    return VIRIDIS[k].map((c, i) => Math.round(c + f * (VIRIDIS[k + 1][i] - c)));
  }
  const rgb = (c, alpha = 1) => `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;
  // Diverging blue (positive) / red (negative), t in [-1, 1].
  const diverging = (t) => (t >= 0 ? [255 * (1 - 0.85 * t), 255 * (1 - 0.6 * t), 255] : [255, 255 * (1 + 0.8 * t), 255 * (1 + 0.8 * t)]);
  // One colour per run, from the smallest learning rate (violet) to the largest (dark red).
  const PALETTE = [[94, 79, 162], [50, 136, 189], [60, 170, 120], [230, 171, 2], [244, 109, 67], [158, 1, 66]];
  function runColour(r) {
    const x = (K > 1 ? r / (K - 1) : 0.5) * (PALETTE.length - 1), k = Math.min(PALETTE.length - 2, Math.floor(x)), f = x - k;
    return rgb(PALETTE[k].map((c, i) => Math.round(c + f * (PALETTE[k + 1][i] - c))));
  }

  // An h×w picture at (x, y), its longer side `size`: colour(k) -> [r, g, b] of pixel k. One scratch canvas.
  const scratch = document.createElement("canvas");
  function paint(ctx, colour, x, y, size, h, w) {
    scratch.width = w; scratch.height = h;
    const g = scratch.getContext("2d"), img = g.createImageData(w, h), d = img.data;
    for (let k = 0; k < h * w; k++) {
      const [r, gr, b] = colour(k);
      d[4 * k] = r; d[4 * k + 1] = gr; d[4 * k + 2] = b; d[4 * k + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(scratch, x, y, (size * w) / Math.max(h, w), (size * h) / Math.max(h, w));
  }
  const grey = (v) => { v = Math.round(255 * Math.min(1, Math.max(0, v))); return [v, v, v]; };
  const drawImage = (ctx, pixels, x, y, size, h, w) => paint(ctx, (k) => grey(pixels[k]), x, y, size, h, w);
  // Images of the weights into each first-layer neuron: value(i, j) for pixel i of neuron j, each
  // divided by scale(j) and coloured blue (positive) / red (negative), in rows of up to 8.
  function drawNeuronImages(ctx, W, H, value, scale) {
    const n = sizes[1], perRow = Math.ceil(n / Math.ceil(n / 8)), size = Math.min(W / perRow, H / Math.ceil(n / perRow)) - 6;
    ctx.clearRect(0, 0, W, H);
    for (let j = 0; j < n; j++) {
      const s = scale(j);
      paint(ctx, (i) => diverging(value(i, j) / s), (j % perRow) * (size + 6) + 3, Math.floor(j / perRow) * (size + 6) + 3, size, rows, cols);
    }
  }

  // ---- state -----------------------------------------------------------------------------------
  const state = {
    run: data.default_run, frame: frameCount - 1, example: 0, drawing: false, drawLabel: 0,
    mode: "one", batch: [], batchSeed: 1, stepped: null, marker: null, path: null, shown: null,
  };
  const $ = (id) => document.getElementById(id);
  const current = () => runs[state.run]; // the run shown

  function inputPixels() {
    if (state.drawing) return drawnPixels();
    return exampleOf(state.example).pixels;
  }

  // ---- panel 1: the network --------------------------------------------------------------------
  function drawNetwork() {
    const ctx = $("network").getContext("2d"), W = 640, H = 400;
    ctx.clearRect(0, 0, W, H);
    const p = shownParams(), pixels = inputPixels(), layers = net.pass(p, pixels).a;
    state.shown = layers;
    drawImage(ctx, pixels, 10, H / 2 - 60, 120, rows, cols);
    ctx.strokeStyle = "#999"; ctx.strokeRect(10, H / 2 - 60, 120, 120);
    const room = meta.classes ? 150 : 80; // for the outputs' labels
    const xs = sizes.slice(1).map((_, k) => 220 + k * ((W - 220 - room) / Math.max(1, sizes.length - 2)));
    const ys = sizes.slice(1).map((n) => Array.from({ length: n }, (_, j) => (H * (j + 0.5)) / n));
    // Edges: into layer 1, the weighted input each neuron gets from the image; later, the strongest weights.
    const first = layerWeights(p, 1);
    const push = Array.from({ length: first.nOut }, (_, j) => pixels.reduce((s, v, i) => s + v * first.w(i, j), 0));
    const maxPush = Math.max(1e-9, ...push.map(Math.abs));
    push.forEach((v, j) => line(ctx, 130, H / 2, xs[0], ys[0][j], v / maxPush));
    for (let l = 2; l < sizes.length; l++) {
      const { w, nIn, nOut } = layerWeights(p, l), edges = [];
      for (let i = 0; i < nIn; i++) for (let j = 0; j < nOut; j++) edges.push([Math.abs(w(i, j)), i, j, w(i, j)]);
      edges.sort((a, b) => b[0] - a[0]);
      const top = edges.slice(0, 3 * nOut), big = top[0][0] || 1;
      top.reverse().forEach(([, i, j, v]) => line(ctx, xs[l - 2], ys[l - 2][i], xs[l - 1], ys[l - 1][j], v / big));
    }
    layers.slice(1).forEach((a, k) => {
      const top = Math.max(1, ...a);
      const r = Math.min(11, H / (2.4 * a.length));
      a.forEach((v, j) => {
        const g = Math.round(255 * Math.max(0, v) / top);
        ctx.beginPath(); ctx.arc(xs[k], ys[k][j], r, 0, 2 * Math.PI);
        ctx.fillStyle = `rgb(${g},${g},${g})`; ctx.fill();
        ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.stroke();
      });
    });
    const out = layers[layers.length - 1], best = out.indexOf(Math.max(...out)), xo = xs[xs.length - 1];
    ctx.font = "13px system-ui"; ctx.textBaseline = "middle";
    out.forEach((v, d) => {
      ctx.fillStyle = d === best ? "#c60" : "#333";
      ctx.fillText(`${nameOf(d)}  ${v.toFixed(3)}`, xo + 16, ys[ys.length - 1][d]);
    });
    const label = state.drawing ? "your drawing" : `test image #${data.examples.index[state.example]}, a ${nameOf(data.examples.labels[state.example])}`;
    ctx.fillStyle = "#333"; ctx.textBaseline = "alphabetic";
    ctx.fillText(label, 10, H / 2 + 80);
    ctx.fillText(`the network says ${nameOf(best)}`, 10, H / 2 + 98);
    if (state.stepped) ctx.fillText(`after ${stepWords()}`, 10, H / 2 + 116);
  }

  function line(ctx, x0, y0, x1, y1, t) {
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1);
    const alpha = 0.1 + 0.7 * Math.abs(t);
    ctx.strokeStyle = t >= 0 ? `rgba(40,90,220,${alpha})` : `rgba(220,50,40,${alpha})`;
    ctx.lineWidth = 0.5 + 2 * Math.abs(t); ctx.stroke();
  }

  // ---- panel 2: training replay ----------------------------------------------------------------
  const steps = data.frames.step, perEpoch = meta.steps_per_epoch;
  const epochOf = (f) => steps[f] / perEpoch;
  const lastEpoch = epochOf(frameCount - 1) || 1;

  function drawCurves() {
    const ctx = $("curves").getContext("2d"), W = 560, H = 240, L = 56, R = 64, T = 14, B = 34;
    ctx.clearRect(0, 0, W, H);
    // x: square root of the epoch, so that the dense first epoch gets room.
    const X = (e) => L + ((W - L - R) * Math.sqrt(e)) / Math.sqrt(lastEpoch);
    const costs = current().test_cost, accs = current().test_accuracy, cmax = Math.max(...runs.map((r) => Math.max(...r.test_cost)));
    const Yc = (c) => T + (H - T - B) * (1 - c / cmax), Ya = (a) => T + (H - T - B) * (1 - a);
    ctx.strokeStyle = "#ccc"; ctx.strokeRect(L, T, W - L - R, H - T - B);
    ctx.font = "11px system-ui"; ctx.fillStyle = "#555"; ctx.textAlign = "center";
    for (const e of [0, 0.25, 1, 2, 5, 10, 20, 30, 50, 80].filter((e) => e <= lastEpoch)) {
      ctx.fillText(String(e), X(e), H - B + 14);
      ctx.beginPath(); ctx.moveTo(X(e), T); ctx.lineTo(X(e), H - B); ctx.strokeStyle = "#eee"; ctx.stroke();
    }
    ctx.fillText("epoch (square-root scale)", (L + W - R) / 2, H - 4);
    ctx.textAlign = "left";
    ctx.fillStyle = "#1f5fbf"; ctx.fillText("test cost", 4, T + 4); ctx.fillText(cmax.toFixed(2), 4, T + 18);
    ctx.fillStyle = "#c0392b"; ctx.fillText("accuracy", W - R + 4, T + 4); ctx.fillText("100%", W - R + 4, T + 18);
    const curve = (ys, Y, colour, width = 2) => {
      ctx.beginPath();
      ys.forEach((v, f) => (f ? ctx.lineTo(X(epochOf(f)), Y(v)) : ctx.moveTo(X(epochOf(f)), Y(v))));
      ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.stroke();
    };
    ctx.globalAlpha = 0.5; // the other runs' test cost, in their colours
    runs.forEach((r, i) => { if (i !== state.run) curve(r.test_cost, Yc, runColour(i), 1); });
    ctx.globalAlpha = 1;
    curve(costs, Yc, "#1f5fbf");
    curve(accs, Ya, "#c0392b");
    const x = X(epochOf(state.frame));
    ctx.beginPath(); ctx.moveTo(x, T); ctx.lineTo(x, H - B); ctx.strokeStyle = "#222"; ctx.lineWidth = 1; ctx.stroke();
    [[Yc(costs[state.frame]), "#1f5fbf"], [Ya(accs[state.frame]), "#c0392b"]].forEach(([y, c]) => {
      ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fillStyle = c; ctx.fill();
    });
  }

  function drawWeights() { // each neuron's weights on its own scale
    const { w, nIn } = layerWeights(shownParams(), 1);
    const scale = (j) => { let big = 1e-12; for (let i = 0; i < nIn; i++) big = Math.max(big, Math.abs(w(i, j))); return big; };
    drawNeuronImages($("weights").getContext("2d"), 560, 150, w, scale);
  }

  // ---- panel 3: the landscape ------------------------------------------------------------------
  // Two views of the one plane, each a grid of the cost with its own colour scale: every path (the
  // whole plane they cover), and the valley around the path of the run the page opens with.
  const land = data.landscape;
  let surfaceView = { yaw: -0.6, pitch: 0.6, zoom: 0.9 };
  const views = !land ? [] : [land, land.valley].filter(Boolean).map((g, k) => {
    const A = g.alphas.length, B = g.betas.length, logc = g.cost.map((c) => Math.log10(c));
    const lo = Math.min(...logc), hi = Math.max(...logc);
    return {
      name: k ? "the valley" : "every path", alphas: g.alphas, betas: g.betas, cost: g.cost, base: null,
      grid: { A, B, logc, lo, hi, t: (i) => (logc[i] - lo) / (hi - lo || 1) },
      a0: g.alphas[0], a1: g.alphas[A - 1], b0: g.betas[0], b1: g.betas[B - 1],
    };
  });
  let shownView = null, grid = null, a0 = 0, a1 = 1, b0 = 0, b1 = 1;
  function useView(k) {
    shownView = views[k];
    ({ grid, a0, a1, b0, b1 } = shownView);
  }
  if (land) useView(0);
  const inside = ([a, b]) => a >= a0 && a <= a1 && b >= b0 && b <= b1;
  const CW = 420, PAD = 36;
  const toX = (a) => PAD + ((CW - 2 * PAD) * (a - a0)) / (a1 - a0);
  const toY = (b) => CW - PAD - ((CW - 2 * PAD) * (b - b0)) / (b1 - b0);

  // Bilinear interpolation of log10 cost at (α, β) on the grid.
  function logCostAt(a, b) {
    const fi = Math.min(grid.A - 1.000001, Math.max(0, ((a - a0) / (a1 - a0)) * (grid.A - 1)));
    const fj = Math.min(grid.B - 1.000001, Math.max(0, ((b - b0) / (b1 - b0)) * (grid.B - 1)));
    const i = Math.floor(fi), j = Math.floor(fj), u = fi - i, v = fj - j, c = (i, j) => grid.logc[i * grid.B + j];
    return (1 - u) * ((1 - v) * c(i, j) + v * c(i, j + 1)) + u * ((1 - v) * c(i + 1, j) + v * c(i + 1, j + 1));
  }

  function drawContour() {
    const ctx = $("contour").getContext("2d");
    if (!shownView.base) { // the heat map and contour lines, drawn once per view
      const contourBase = (shownView.base = document.createElement("canvas"));
      contourBase.width = CW; contourBase.height = CW;
      const g = contourBase.getContext("2d"), img = g.createImageData(grid.A, grid.B);
      for (let i = 0; i < grid.A; i++)
        for (let j = 0; j < grid.B; j++) img.data.set([...viridis(grid.t(i * grid.B + j)), 255], 4 * ((grid.B - 1 - j) * grid.A + i));
      const c = document.createElement("canvas");
      c.width = grid.A; c.height = grid.B;
      c.getContext("2d").putImageData(img, 0, 0);
      g.imageSmoothingEnabled = true;
      const cell = (CW - 2 * PAD) / (grid.A - 1), cellB = (CW - 2 * PAD) / (grid.B - 1);
      g.drawImage(c, PAD - cell / 2, PAD - cellB / 2, CW - 2 * PAD + cell, CW - 2 * PAD + cellB);
      contours(g, 12);
      g.fillStyle = "#333"; g.font = "11px system-ui"; g.textAlign = "center";
      const tick = (v) => String(Number(v.toPrecision(2)));
      g.fillText(tick(a0), PAD, CW - PAD + 12); g.fillText(tick(a1), CW - PAD, CW - PAD + 12);
      g.textAlign = "right"; g.fillText(tick(b0), PAD - 3, CW - PAD); g.fillText(tick(b1), PAD - 3, PAD + 8);
      g.textAlign = "center";
      g.fillText(`α: PC1 (${(100 * land.explained[0]).toFixed(1)}% of the paths' variance)`, CW / 2, CW - 8);
      g.save(); g.translate(12, CW / 2); g.rotate(-Math.PI / 2);
      g.fillText(`β: PC2 (${(100 * land.explained[1]).toFixed(1)}%)`, 0, 0); g.restore();
    }
    ctx.clearRect(0, 0, CW, CW);
    ctx.drawImage(shownView.base, 0, 0);
    ctx.save();
    ctx.beginPath(); ctx.rect(PAD, PAD, CW - 2 * PAD, CW - 2 * PAD); ctx.clip(); // paths may leave the valley
    // Every run's path so far, the run shown last (on top) and widest; a run that blew up is dashed
    // and crossed where it did.
    const order = runs.map((_, r) => r).filter((r) => r !== state.run).concat([state.run]);
    for (const r of order) {
      const pts = land.coords[r].map(([a, b]) => [toX(a), toY(b)]), shown = r === state.run;
      const trace = (colour, width) => {
        ctx.beginPath(); ctx.moveTo(...pts[0]);
        for (let f = 1; f <= state.frame; f++) ctx.lineTo(...pts[f]);
        ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.stroke();
      };
      ctx.setLineDash(runs[r].blew_up != null ? [5, 3] : []);
      trace(shown ? "#fff" : "rgba(255,255,255,0.7)", shown ? 5 : 3);
      trace(runColour(r), shown ? 2.5 : 1.5);
      ctx.setLineDash([]);
      if (shown) {
        pts.forEach(([x, y], f) => {
          ctx.beginPath(); ctx.arc(x, y, 2, 0, 2 * Math.PI);
          ctx.fillStyle = f <= state.frame ? "#fff" : "rgba(255,255,255,0.35)"; ctx.fill();
        });
        state.path = pts.slice(0, state.frame + 1);
      }
      const bad = runs[r].blew_up;
      if (bad != null && bad <= state.frame) cross(ctx, ...pts[bad], runColour(r));
    }
    const [x, y] = land.coords[state.run][state.frame].map((v, i) => (i ? toY(v) : toX(v)));
    ctx.beginPath(); ctx.arc(x, y, 7, 0, 2 * Math.PI);
    ctx.fillStyle = "#ff3b30"; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.stroke();
    ctx.restore();
    state.marker = [x, y];
  }

  function cross(ctx, x, y, colour) {
    ctx.beginPath(); ctx.moveTo(x - 6, y - 6); ctx.lineTo(x + 6, y + 6); ctx.moveTo(x + 6, y - 6); ctx.lineTo(x - 6, y + 6);
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 4; ctx.stroke();
    ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.stroke();
  }

  // Marching squares over log10 cost: `levels` evenly spaced contour lines.
  function contours(g, levels) {
    const { A, B, logc, lo, hi } = grid, at = (i, j) => logc[i * B + j];
    g.strokeStyle = "rgba(255,255,255,0.45)"; g.lineWidth = 1;
    for (let k = 1; k < levels; k++) {
      const level = lo + ((hi - lo) * k) / levels;
      g.beginPath();
      for (let i = 0; i < A - 1; i++)
        for (let j = 0; j < B - 1; j++) {
          const corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]], cross = [];
          for (let e = 0; e < 4; e++) {
            const [p, q] = [corners[e], corners[(e + 1) % 4]], vp = at(...p), vq = at(...q);
            if ((vp < level) !== (vq < level)) {
              const s = (level - vp) / (vq - vp);
              const a = shownView.alphas[p[0]] + s * (shownView.alphas[q[0]] - shownView.alphas[p[0]]);
              const b = shownView.betas[p[1]] + s * (shownView.betas[q[1]] - shownView.betas[p[1]]);
              cross.push([toX(a), toY(b)]);
            }
          }
          for (let c = 0; c + 1 < cross.length; c += 2) { g.moveTo(...cross[c]); g.lineTo(...cross[c + 1]); }
        }
      g.stroke();
    }
  }

  // A small 3-D renderer: the grid as quads, rotated, projected and painted back to front.
  function project(x, y, z) {
    const { yaw, pitch, zoom } = surfaceView;
    const xr = x * Math.cos(yaw) - y * Math.sin(yaw), yr = x * Math.sin(yaw) + y * Math.cos(yaw);
    // The camera looks along (0, cos pitch, −sin pitch): from the front, down onto the plane.
    const depth = yr * Math.cos(pitch) - z * Math.sin(pitch), up = z * Math.cos(pitch) + yr * Math.sin(pitch);
    const s = (zoom * CW * 0.33) / (1 + 0.25 * depth);
    return [CW / 2 + s * xr, CW * 0.55 - s * up, depth];
  }
  const world = (a, b, t) => [(2 * (a - a0)) / (a1 - a0) - 1, (2 * (b - b0)) / (b1 - b0) - 1, 1.1 * t - 0.3];
  let projected = [];

  // The surface itself is painted once per view and camera, into `surfaceBase`; a new frame only
  // redraws the paths over it.
  const surfaceBase = document.createElement("canvas");
  let surfaceKey = null;
  function paintSurface() {
    surfaceBase.width = CW; surfaceBase.height = CW;
    const ctx = surfaceBase.getContext("2d"), { A, B } = grid, P = [];
    for (let i = 0; i < A; i++) for (let j = 0; j < B; j++) P.push(project(...world(shownView.alphas[i], shownView.betas[j], grid.t(i * B + j))));
    projected = P;
    const quads = [];
    for (let i = 0; i < A - 1; i++)
      for (let j = 0; j < B - 1; j++) {
        const ks = [i * B + j, (i + 1) * B + j, (i + 1) * B + j + 1, i * B + j + 1];
        quads.push([ks.reduce((s, k) => s + P[k][2], 0), ks, ks.reduce((s, k) => s + grid.t(k), 0) / 4]);
      }
    quads.sort((p, q) => q[0] - p[0]);
    for (const [, ks, t] of quads) {
      ctx.beginPath(); ctx.moveTo(P[ks[0]][0], P[ks[0]][1]);
      for (const k of ks.slice(1)) ctx.lineTo(P[k][0], P[k][1]);
      ctx.closePath(); ctx.fillStyle = rgb(viridis(t)); ctx.fill();
      ctx.strokeStyle = "rgba(0,0,0,0.12)"; ctx.lineWidth = 0.5; ctx.stroke();
    }
  }

  function drawSurface() {
    const ctx = $("surface").getContext("2d"), key = [shownView.name, surfaceView.yaw, surfaceView.pitch, surfaceView.zoom].join();
    if (key !== surfaceKey) { paintSurface(); surfaceKey = key; }
    ctx.clearRect(0, 0, CW, CW);
    ctx.drawImage(surfaceBase, 0, 0);
    // The paths on the surface: each point at the plane's cost below it; points off this view are left out.
    const lift = ([a, b]) => project(...world(a, b, (logCostAt(a, b) - grid.lo) / (grid.hi - grid.lo || 1) + 0.02));
    const trace = (r, colour, width) => {
      ctx.beginPath();
      land.coords[r].slice(0, state.frame + 1).forEach((ab, f, all) => {
        if (!inside(ab)) return;
        const [x, y] = lift(ab);
        f && inside(all[f - 1]) ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      });
      ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.stroke();
    };
    runs.forEach((_, r) => r !== state.run && trace(r, runColour(r), 1.5));
    trace(state.run, "#fff", 2);
    const now = land.coords[state.run][state.frame];
    if (inside(now)) {
      const [x, y] = lift(now);
      ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI);
      ctx.fillStyle = "#ff3b30"; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.stroke();
    }
    ctx.fillStyle = "#555"; ctx.font = "11px system-ui";
    ctx.fillText("log cost over the PCA plane — drag to rotate, wheel to zoom", 8, 14);
  }

  function hoverText(a, b) {
    return `α = ${a.toFixed(3)}, β = ${b.toFixed(3)}, cost = ${Math.pow(10, logCostAt(a, b)).toFixed(4)}`;
  }

  // ---- panel 4: the gradient ----------------------------------------------------------------------
  const BATCH = Math.min(meta.batch_size || 10, exampleCount);

  // What the gradient is of: the example shown (a test image, or the drawing with its chosen label)
  // or, in mini-batch mode, the mean over BATCH test images.
  function selection() {
    if (state.mode === "batch") return state.batch.map(exampleOf);
    if (state.drawing) return [{ pixels: drawnPixels(), label: state.drawLabel }];
    return [exampleOf(state.example)];
  }
  function selectionWords() {
    if (state.mode === "batch") return `the mini-batch of ${state.batch.length} test images`;
    if (state.drawing) return `your drawing, taken as a ${nameOf(state.drawLabel)}`;
    return `test image #${data.examples.index[state.example]} (a ${nameOf(data.examples.labels[state.example])})`;
  }

  // A new mini-batch: BATCH of the page's test images, drawn by a seeded generator (mulberry32), so
  // a page shows the same sequence of mini-batches each time it opens.
  function newBatch() {
    let t = Math.imul(state.batchSeed++, 0x9e3779b9) >>> 0;
    const rand = () => {
      t = (t + 0x6d2b79f5) >>> 0;
      let r = Math.imul(t ^ (t >>> 15), 1 | t);
      r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
      return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
    };
    const pool = Array.from({ length: exampleCount }, (_, k) => k);
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    state.batch = pool.slice(0, BATCH).sort((a, b) => a - b);
  }

  function drawGradient() {
    const examples = selection(), g = net.mean(shownParams(), examples), what = selectionWords();
    let norm2 = 0;
    for (const v of g.grad) norm2 += v * v;
    const squares = Float64Array.from(g.grad, (v) => v * v).sort().reverse(), top = Math.ceil(nParams / 100);
    let held = 0;
    for (let k = 0; k < top; k++) held += squares[k];
    const formula = meta.cost === "cross_entropy" ? "−log softmax(z)_label" : "Σⱼ (aⱼ − yⱼ)²";
    const mean = state.mode === "batch" ? "the mean over them of " : "";
    $("gradient-cost").textContent =
      `Cost of ${what}: ${mean}C = ${formula} = ${g.cost.toFixed(4)}. Its gradient ∇C has ${String(nParams).replace(/\B(?=(\d{3})+$)/g, ",")} ` +
      `entries and length ${Math.sqrt(norm2).toPrecision(3)}; the largest 1% of them (${top}) hold ` +
      `${((100 * held) / (norm2 || 1)).toFixed(1)}% of its squared length: those weights matter most.`;
    drawNudges(g, examples);
    drawGradientImages(g, what);
  }

  // The network again, now carrying the gradient: each neuron's desired nudge −∂C/∂a (bars and
  // colour: blue up, red down; each layer on its own scale), and the strongest weight nudges as edges.
  function drawNudges(g, examples) {
    const ctx = $("nudges").getContext("2d"), W = 640, H = 330, L = sizes.length - 1, p = shownParams();
    ctx.clearRect(0, 0, W, H);
    if (examples.length === 1) {
      drawImage(ctx, examples[0].pixels, 10, H / 2 - 60, 120, rows, cols);
      ctx.strokeStyle = "#999"; ctx.strokeRect(10, H / 2 - 60, 120, 120);
    } else {
      examples.forEach((e, k) => drawImage(ctx, e.pixels, 10 + (k % 2) * 62, 20 + Math.floor(k / 2) * 62, 58, rows, cols));
    }
    const room = meta.classes ? 200 : 150; // for the outputs' nudges and labels
    const xs = sizes.slice(1).map((_, k) => 200 + k * ((W - 200 - room) / Math.max(1, L - 1)));
    const ys = sizes.slice(1).map((n) => Array.from({ length: n }, (_, j) => 14 + ((H - 40) * (j + 0.5)) / n));
    // Into layer 1: one line per neuron, as thick as its 784 weight nudges are long (the images below).
    const o1 = net.offsets[1], n1 = sizes[1], norms = new Array(n1).fill(0);
    for (let i = 0; i < sizes[0]; i++) for (let j = 0; j < n1; j++) norms[j] += g.grad[o1 + i * n1 + j] ** 2;
    const biggest = Math.max(1e-30, ...norms.map(Math.sqrt));
    norms.forEach((v, j) => line(ctx, 130, H / 2, xs[0], ys[0][j], (Math.sign(-g.grad[o1 + sizes[0] * n1 + j]) * Math.sqrt(v)) / biggest));
    // Later layers: the 3·n_out weights with the largest nudges, blue to increase, red to decrease.
    for (let l = 2; l <= L; l++) {
      const o = net.offsets[l], nIn = sizes[l - 1], nOut = sizes[l], edges = [];
      for (let i = 0; i < nIn; i++) for (let j = 0; j < nOut; j++) edges.push([Math.abs(g.grad[o + i * nOut + j]), i, j]);
      edges.sort((a, b) => b[0] - a[0]);
      const kept = edges.slice(0, 3 * nOut), big = kept[0][0] || 1;
      kept.reverse().forEach(([, i, j]) => line(ctx, xs[l - 2], ys[l - 2][i], xs[l - 1], ys[l - 1][j], -g.grad[o + i * nOut + j] / big));
    }
    ctx.font = "11px system-ui"; ctx.textBaseline = "middle";
    for (let l = 1; l <= L; l++) {
      const nudge = g.dA[l].map((v) => -v), big = Math.max(1e-30, ...nudge.map(Math.abs));
      const r = Math.min(9, (H - 40) / (2.4 * sizes[l])), bar = l === L ? 50 : 22;
      nudge.forEach((v, j) => {
        const x = xs[l - 1], y = ys[l - 1][j], t = v / big;
        ctx.fillStyle = rgb(diverging(t)); ctx.fillRect(x + r + 2, y - 3, bar * Math.abs(t), 6);
        ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fillStyle = rgb(diverging(t)); ctx.fill(); ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.stroke();
        if (l === L) {
          ctx.fillStyle = "#333";
          ctx.fillText(`${nameOf(j)}  ${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(3)}`, x + r + bar + 6, y);
        }
      });
    }
    ctx.fillStyle = "#555"; ctx.textBaseline = "alphabetic"; ctx.textAlign = "center";
    const out = meta.cost === "cross_entropy" ? "−∂C/∂z (softmax)" : "desired nudge −∂C/∂a";
    xs.forEach((x, k) => ctx.fillText(k === L - 1 ? out : `layer ${k + 1}: −∂C/∂a`, x + (k === L - 1 ? 40 : 0), 10));
    ctx.textAlign = "left";
    ctx.fillText("lines: the strongest weight nudges (blue: increase the weight, red: decrease)", 150, H - 6);
  }

  // The first layer's gradient images: −∂C/∂w for the weights into each hidden neuron, one shared scale.
  function drawGradientImages(g, what) {
    const o = net.offsets[1], nIn = sizes[0], nOut = sizes[1];
    let big = 1e-30;
    for (let k = o; k < o + nIn * nOut; k++) big = Math.max(big, Math.abs(g.grad[k]));
    drawNeuronImages($("gradient-images").getContext("2d"), 560, 150, (i, j) => -g.grad[o + i * nOut + j], () => big);
    $("gradient-images-note").textContent =
      `The first layer's ${nOut} gradient images: the nudge −∂C/∂w of each of the ${nIn} weights into every hidden neuron ` +
      `for ${what}, blue to increase, red to decrease, on one shared scale (deepest colour: ${big.toPrecision(2)}). ` +
      "Only inked pixels get a nudge: a weight from a black pixel does not change the cost.";
  }

  // ---- "take one step": θ ← θ − η∇C, from the shown parameters --------------------------------
  const meanCost = (p, examples) => examples.reduce((s, e) => s + net.costOf(p, e.pixels, e.label), 0) / examples.length;
  const stepWords = () => `${state.stepped.steps} step${state.stepped.steps > 1 ? "s" : ""} with η = ${state.stepped.eta}`;

  function step() {
    const eta = current().learning_rate, examples = selection(), p0 = shownParams();
    const { grad } = net.mean(p0, examples), p1 = new Float64Array(nParams);
    for (let k = 0; k < nParams; k++) p1[k] = p0[k] - eta * grad[k];
    const every = Array.from({ length: exampleCount }, (_, k) => exampleOf(k));
    const result = {
      learning_rate: eta,
      cost_before: meanCost(p0, examples), cost_after: meanCost(p1, examples),
      test_cost_before: meanCost(p0, every), test_cost_after: meanCost(p1, every),
      steps: (state.stepped ? state.stepped.steps : 0) + 1,
    };
    state.stepped = { params: p1, steps: result.steps, eta };
    const change = (a, b) => `${a.toFixed(4)} → ${b.toFixed(4)} (${b < a ? "down" : "up"} ${Math.abs((100 * (b - a)) / a).toFixed(1)}%)`;
    $("step-readout").textContent =
      `After ${stepWords()} from frame ${state.frame + 1}: the cost of ${selectionWords()} went ${change(result.cost_before, result.cost_after)}; ` +
      `the mean cost over the ${exampleCount} test images in this page went ${change(result.test_cost_before, result.test_cost_after)}.` +
      (result.cost_after > result.cost_before ? " The step overshot: η is too large here." : "");
    render();
    return result;
  }
  function unstep() {
    state.stepped = null;
    $("step-readout").textContent = "";
  }

  // ---- the drawing pad ---------------------------------------------------------------------------
  const INK = 112, BRUSH = 4.5; // ink buffer side and brush radius, in ink pixels (4 per MNIST pixel)
  const ink = new Float64Array(INK * INK);
  let drawnCache = null;
  function drawnPixels() {
    if (!drawnCache) drawnCache = mnistStyle(ink, INK, INK);
    return drawnCache;
  }
  function stamp(x0, y0, x1, y1) {
    const n = Math.max(1, Math.ceil(2 * Math.hypot(x1 - x0, y1 - y0)));
    for (let s = 0; s <= n; s++) {
      const cx = x0 + ((x1 - x0) * s) / n, cy = y0 + ((y1 - y0) * s) / n;
      for (let i = Math.max(0, Math.floor(cy - BRUSH - 1)); i <= Math.min(INK - 1, Math.ceil(cy + BRUSH + 1)); i++)
        for (let j = Math.max(0, Math.floor(cx - BRUSH - 1)); j <= Math.min(INK - 1, Math.ceil(cx + BRUSH + 1)); j++) {
          // a disc with a one-pixel soft edge, measured from the pixel's centre
          const v = Math.min(1, Math.max(0, BRUSH + 0.5 - Math.hypot(j + 0.5 - cx, i + 0.5 - cy)));
          if (v > ink[i * INK + j]) ink[i * INK + j] = v;
        }
    }
    drawnCache = null;
  }
  function drawPad() {
    const ctx = $("pad").getContext("2d");
    ctx.clearRect(0, 0, 224, 224);
    drawImage(ctx, ink, 0, 0, 224, INK, INK);
    const seen = $("seen").getContext("2d");
    seen.clearRect(0, 0, 112, 112);
    drawImage(seen, state.drawing ? drawnPixels() : inputPixels(), 0, 0, 112, rows, cols);
  }

  // ---- wiring --------------------------------------------------------------------------------
  const pct = (x) => `${(100 * x).toFixed(2)}%`;
  const epochWords = (e) => (e < 1 ? e.toFixed(2) : e.toFixed(e % 1 ? 2 : 0));

  function setFrame(f) {
    state.frame = Math.max(0, Math.min(frameCount - 1, f));
    unstep();
    $("slider").value = state.frame;
    const e = epochOf(state.frame), bad = current().blew_up;
    $("when").textContent =
      `frame ${state.frame + 1}/${frameCount}: epoch ${epochWords(e)} (step ${steps[state.frame]}) — ` +
      `test cost ${current().test_cost[state.frame].toFixed(4)}, accuracy ${(100 * current().test_accuracy[state.frame]).toFixed(2)}%` +
      (bad != null && state.frame >= bad ? " — this run has blown up" : "");
    render();
  }
  function render() {
    drawNetwork(); drawCurves(); drawWeights(); drawPad(); drawGradient();
    if (land) { drawContour(); drawSurface(); }
  }

  // The learning-rate dial: the run shown, its place on the dial and in the list of runs.
  function runWords(r) {
    const run = runs[r], bad = run.blew_up;
    if (bad != null) return `blew up at epoch ${epochWords(epochOf(bad))}`;
    return `${pct(run.test_accuracy.at(-1))}${run.status === "ok" ? "" : ", learnt nothing yet"}`;
  }
  function setRun(r) {
    state.run = Math.max(0, Math.min(K - 1, r));
    $("dial").value = state.run;
    $("eta").textContent = `${current().learning_rate}`;
    $("step").textContent = `Take one step (η = ${current().learning_rate})`;
    document.querySelectorAll("#run-list button").forEach((b, i) => b.classList.toggle("chosen", i === state.run));
    keyNumbers();
    setFrame(state.frame);
  }

  // Panel 5: the key numbers, as a table.
  function keyNumbers() {
    const rowsOf = [
      ["dataset", `${meta.dataset}: ${meta.num_train} training, ${meta.num_test} test images, ${rows}×${cols}`],
      ["network", `${sizes.join("-")}, ${meta.activation}, ${meta.cost} cost${meta.preset ? `, preset "${meta.preset}"` : ""}`],
      ["run shown", `η = ${current().learning_rate}: test accuracy ${pct(current().test_accuracy[0])} untrained → ${pct(current().test_accuracy.at(-1))} after ${meta.epochs} epochs` +
        (current().reason ? `; ${current().reason}` : "")],
      ["training", meta.seconds_train != null ? `${meta.seconds_train.toFixed(1)} s for ${K > 1 ? `all ${K} runs in one program` : "the run"} (with snapshots), ${meta.steps_per_epoch} steps per epoch` : "—"],
      ["frames", `${frameCount} per run: the untrained network, ${meta.snapshot_every ? `every ${meta.snapshot_every} steps of epoch 1, ` : ""}the end of later epochs` +
        (meta.param_dtype === "float16" ? " (parameters carried in float16)" : "")],
    ];
    if (K > 1) rowsOf.push(["learning rates", runs.map((r, i) => `η = ${r.learning_rate}: ${runWords(i)}`).join("; ")]);
    if (land) rowsOf.push(["landscape plane", `PC1 ${pct(land.explained[0])} + PC2 ${pct(land.explained[1])} of the variance of all ${K * frameCount} frames; ${land.alphas.length}×${land.betas.length} grid${land.valley ? "s (every path, the valley)" : ""} on ${land.images} test images`]);
    const table = $("numbers");
    table.replaceChildren();
    for (const [k, v] of rowsOf) {
      const tr = table.insertRow();
      tr.insertCell().textContent = k; tr.insertCell().textContent = v;
    }
  }

  function setup() {
    const first = runs[data.default_run];
    $("summary").textContent =
      `${meta.dataset} (${meta.num_train} training, ${meta.num_test} test images), ${meta.sizes.join("-")} network, ` +
      `${meta.preset ? `preset "${meta.preset}", ` : ""}${meta.activation}, ${meta.cost} cost; ${meta.source}. ` +
      `Test accuracy ${pct(first.test_accuracy[0])} untrained → ${pct(first.test_accuracy.at(-1))} after ${meta.epochs} epochs at η = ${first.learning_rate}` +
      `${meta.seconds_train != null ? ` (${meta.seconds_train.toFixed(1)} s of training${K > 1 ? ` for all ${K} runs` : ""})` : ""}. ` +
      (K > 1 ? `Turn the learning-rate dial to see ${K} runs from the same initial network: ` +
        runs.map((r, i) => `η = ${r.learning_rate} ${runWords(i)}`).join(", ") + ". " : "") +
      (land ? `The landscape plane holds ${pct(land.explained[0] + land.explained[1])} of the variance of all the paths ` +
        `(${pct(land.explained[0])} + ${pct(land.explained[1])}): ` +
        (land.explained[0] + land.explained[1] > 0.8 ? "a faithful picture of them." : "the paths leave the plane noticeably; read it with care.") : "");
    const dial = $("dial"), list = $("run-list");
    dial.max = K - 1;
    dial.addEventListener("input", () => setRun(+dial.value));
    runs.forEach((r, i) => {
      const b = document.createElement("button"), swatch = document.createElement("span");
      swatch.className = "swatch"; swatch.style.background = runColour(i);
      b.append(swatch, `η = ${r.learning_rate}: ${runWords(i)}`);
      if (r.blew_up != null) b.classList.add("blown");
      b.title = r.reason || "learnt";
      b.onclick = () => setRun(i);
      list.appendChild(b);
    });
    if (K < 2) { $("dial-box").style.display = "none"; list.style.display = "none"; }
    document.getElementsByName("gradient-mode").forEach((radio) => {
      radio.onchange = () => { state.mode = radio.value; render(); };
    });
    $("new-batch").onclick = () => { newBatch(); if (state.mode === "batch") render(); };
    const labels = $("draw-label");
    for (let d = 0; d < sizes[sizes.length - 1]; d++) labels.add(new Option(nameOf(d), d));
    labels.onchange = () => { state.drawLabel = +labels.value; render(); };
    $("step").onclick = step;
    $("unstep").onclick = () => { unstep(); render(); };
    newBatch();
    const slider = $("slider");
    slider.max = frameCount - 1;
    slider.addEventListener("input", () => setFrame(+slider.value));
    $("back").onclick = () => setFrame(state.frame - 1);
    $("forward").onclick = () => setFrame(state.frame + 1);
    let timer = null;
    $("play").onclick = () => {
      if (timer) { clearInterval(timer); timer = null; $("play").textContent = "▶"; return; }
      if (state.frame === frameCount - 1) setFrame(0);
      $("play").textContent = "❚❚";
      timer = setInterval(() => {
        if (state.frame >= frameCount - 1) { clearInterval(timer); timer = null; $("play").textContent = "▶"; return; }
        setFrame(state.frame + 1);
      }, 150);
    };
    const select = $("example");
    data.examples.labels.forEach((label, k) => {
      const guess = data.examples.guesses[k], option = document.createElement("option");
      option.value = k;
      option.textContent = `#${data.examples.index[k]}: a ${nameOf(label)}` + (guess !== label ? ` — misclassified as ${nameOf(guess)}` : "");
      select.appendChild(option);
    });
    const drawOption = document.createElement("option");
    drawOption.value = "draw"; drawOption.textContent = "✎ your drawing";
    select.appendChild(drawOption);
    select.onchange = () => {
      state.drawing = select.value === "draw";
      if (!state.drawing) state.example = +select.value;
      render();
    };
    const pad = $("pad");
    if (rows !== 28 || cols !== 28) {
      $("pad-note").textContent = `drawing needs 28×28 images; this run's images are ${rows}×${cols}`;
      pad.style.opacity = 0.3; drawOption.disabled = true; $("draw-label-box").style.display = "none";
    } else {
      let last = null, pending = 0; // pending: a redraw asked for the next animation frame
      const at = (ev) => {
        const r = pad.getBoundingClientRect();
        return [((ev.clientX - r.left) * INK) / r.width, ((ev.clientY - r.top) * INK) / r.height];
      };
      pad.addEventListener("pointerdown", (ev) => {
        pad.setPointerCapture(ev.pointerId);
        last = at(ev); stamp(...last, ...last);
        state.drawing = true; select.value = "draw"; render();
      });
      pad.addEventListener("pointermove", (ev) => {
        if (!last) return;
        const p = at(ev); stamp(...last, ...p); last = p;
        if (!pending) pending = requestAnimationFrame(() => { pending = 0; drawNetwork(); drawPad(); drawGradient(); });
      });
      const stop = () => { last = null; };
      pad.addEventListener("pointerup", stop);
      pad.addEventListener("pointercancel", stop);
      $("clear").onclick = () => { ink.fill(0); drawnCache = null; render(); };
    }
    if (land) {
      const shownRun = runs[land.center];
      $("landscape-note").textContent =
        `Test cost (${land.images} images, log scale) on one plane for ${K > 1 ? `all ${K} runs` : "the run"}: through the final ` +
        `network of η = ${shownRun.learning_rate}, spanned by the top two principal directions of all ${K * frameCount} ` +
        `recorded parameter sets (they hold ${pct(land.explained[0] + land.explained[1])} of their variance). ` +
        `Each path is a run's training trajectory projected on the plane, in its colour; the run shown is outlined in white, ` +
        `a run that blew up is dashed and crossed where it did. The points lie off the plane, so the drawn height is the ` +
        `plane's cost below them.`;
      const zoom = $("zoom");
      if (views.length > 1) {
        zoom.onclick = () => {
          useView(shownView === views[0] ? 1 : 0);
          zoom.textContent = shownView === views[0] ? "zoom into the valley" : "show every path";
          drawContour(); drawSurface();
        };
      } else zoom.style.display = "none";
      const contour = $("contour"), surf = $("surface");
      contour.addEventListener("mousemove", (ev) => {
        const r = contour.getBoundingClientRect(), x = ((ev.clientX - r.left) * CW) / r.width, y = ((ev.clientY - r.top) * CW) / r.height;
        const a = a0 + ((x - PAD) * (a1 - a0)) / (CW - 2 * PAD), b = b0 + ((CW - PAD - y) * (b1 - b0)) / (CW - 2 * PAD);
        if (a >= a0 && a <= a1 && b >= b0 && b <= b1) $("hover").textContent = hoverText(a, b);
      });
      let drag = null;
      surf.addEventListener("pointerdown", (ev) => { drag = [ev.clientX, ev.clientY]; surf.setPointerCapture(ev.pointerId); });
      surf.addEventListener("pointerup", () => { drag = null; });
      surf.addEventListener("pointermove", (ev) => {
        if (drag) {
          surfaceView.yaw += (ev.clientX - drag[0]) * 0.01;
          surfaceView.pitch = Math.max(0.1, Math.min(1.5, surfaceView.pitch + (ev.clientY - drag[1]) * 0.01));
          drag = [ev.clientX, ev.clientY]; drawSurface(); return;
        }
        const r = surf.getBoundingClientRect(), x = ((ev.clientX - r.left) * CW) / r.width, y = ((ev.clientY - r.top) * CW) / r.height;
        let best = 0, bestD = Infinity;
        projected.forEach(([px, py], k) => { const d = (px - x) ** 2 + (py - y) ** 2; if (d < bestD) { bestD = d; best = k; } });
        if (bestD < 400) {
          const i = Math.floor(best / grid.B), j = best % grid.B;
          $("hover").textContent = `α = ${shownView.alphas[i].toFixed(3)}, β = ${shownView.betas[j].toFixed(3)}, cost = ${shownView.cost[best].toFixed(4)}`;
        }
      });
      surf.addEventListener("wheel", (ev) => {
        ev.preventDefault();
        surfaceView.zoom = Math.max(0.4, Math.min(4, surfaceView.zoom * Math.exp(-ev.deltaY * 0.001)));
        drawSurface();
      }, { passive: false });
    } else {
      $("landscape-note").textContent = "No training trajectory was recorded (a single parameter set): no plane to show.";
      ["contour", "surface", "zoom"].forEach((id) => ($(id).style.display = "none"));
    }
    setRun(state.run); // draws every panel at the last frame
  }

  // Examples by the entry points' names: k a test example, an array of them, or "draw".
  const examplesOf = (k) =>
    k === undefined ? selection() : k === "draw" ? [{ pixels: drawnPixels(), label: state.drawLabel }] :
    Array.isArray(k) ? k.map(exampleOf) : [exampleOf(k)];

  window.explorer = {
    forward, mnistStyle, setFrame, frameCount,
    frame: () => state.frame,
    frameParams: (f) => Array.from(paramsOf(f)),
    examplePixels: (k) => Array.from(exampleOf(k).pixels),
    ink: () => ({ rows: INK, cols: INK, values: Array.from(ink) }),
    drawnPixels: () => Array.from(drawnPixels()),
    marker: () => state.marker,
    path: () => state.path,
    shownActivations: () => { drawNetwork(); return state.shown; },
    runs: () => runs.map((r) => ({
      learning_rate: r.learning_rate, status: r.status, reason: r.reason, blew_up: r.blew_up,
      final_test_accuracy: r.test_accuracy.at(-1), final_test_cost: r.test_cost.at(-1),
    })),
    setRun, run: () => state.run,
    exampleLabel: (k) => (k === "draw" ? state.drawLabel : data.examples.labels[k]),
    setDrawingLabel: (d) => { state.drawLabel = d; $("draw-label").value = d; render(); },
    batch: () => state.batch.slice(),
    setMode: (m) => { state.mode = m; $(m === "batch" ? "mode-batch" : "mode-one").checked = true; render(); },
    gradient: (k) => {
      const g = net.mean(shownParams(), examplesOf(k));
      return { cost: g.cost, gradient: Array.from(g.grad) };
    },
    step, unstep: () => { unstep(); render(); },
    stepped: () => (state.stepped ? Array.from(state.stepped.params) : null),
  };
  setup();
})();
