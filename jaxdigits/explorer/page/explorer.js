// The jaxdigits explorer page: one time slider drives four linked views of a training run.
//
// The run's data (jaxdigits.explorer.page_data) sits in <script id="run-data">. Parameters are
// one float32 vector per frame, layer by layer: weights (n_in, n_out) row by row, then biases;
// a layer computes act(a · W + b), as jaxdigits.model.predict does. Everything is drawn on
// plain 2-D canvases (no library): the page stays small and works from file://.
//
// window.explorer is the small entry point the browser tests use (and a console user may):
//   forward(frame, pixels) -> activations of every layer (arrays), for one image;
//   mnistStyle(ink, rows, cols) -> the 28x28 image jaxdigits.preprocess.mnist_style makes;
//   ink() -> {rows, cols, values} of the drawing pad; drawnPixels() -> its 28x28 image;
//   setFrame(i), frame(), frameCount, frameParams(i), marker() -> the trajectory marker's
//   canvas position, shownActivations() -> what the network panel shows.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("run-data").textContent);
  const meta = data.meta, sizes = meta.sizes;
  const [rows, cols] = meta.image_shape;
  const nPixels = rows * cols;

  // ---- data: base64 little-endian float32 arrays --------------------------------------------
  function floats(b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }
  const nParams = sizes.slice(1).reduce((n, out, i) => n + (sizes[i] + 1) * out, 0);
  const allParams = floats(data.frames.params);
  const frameCount = data.frames.step.length;
  const exampleCount = data.examples.labels.length;
  const examplePixels = floats(data.examples.pixels);
  const paramsOf = (f) => allParams.subarray(f * nParams, (f + 1) * nParams);

  // ---- the network ---------------------------------------------------------------------------
  const ACT = {
    sigmoid: (z) => 1 / (1 + Math.exp(-z)),
    relu: (z) => Math.max(0, z),
    tanh: Math.tanh,
    // jax.nn.gelu (its tanh approximation): z·Φ(z) ≈ ½z(1 + tanh(√(2/π)(z + 0.044715 z³)))
    gelu: (z) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3))),
    step: (z) => (z > 0 ? 1 : 0),
  }[meta.activation];

  // Activations of every layer for one image (input first), in float64.
  function forward(frame, pixels) {
    const p = paramsOf(frame);
    const layers = [Array.from(pixels)];
    let offset = 0;
    for (let l = 1; l < sizes.length; l++) {
      const nIn = sizes[l - 1], nOut = sizes[l], a = layers[l - 1], z = new Array(nOut).fill(0);
      for (let i = 0; i < nIn; i++) {
        if (a[i] === 0) continue;
        const row = offset + i * nOut;
        for (let j = 0; j < nOut; j++) z[j] += a[i] * p[row + j];
      }
      offset += nIn * nOut;
      layers.push(z.map((v, j) => ACT(v + p[offset + j])));
      offset += nOut;
    }
    return layers;
  }

  // Weights of layer l (1-based, into layer l) as a view: w(i, j) and its size.
  function layerWeights(frame, l) {
    const p = paramsOf(frame);
    let offset = 0;
    for (let k = 1; k < l; k++) offset += (sizes[k - 1] + 1) * sizes[k];
    const nOut = sizes[l];
    return { w: (i, j) => p[offset + i * nOut + j], nIn: sizes[l - 1], nOut };
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

  function drawImage(ctx, pixels, x, y, size, h, w) {
    const img = ctx.createImageData(w, h);
    for (let k = 0; k < h * w; k++) {
      const v = Math.round(255 * Math.min(1, Math.max(0, pixels[k])));
      img.data.set([v, v, v, 255], 4 * k);
    }
    const c = document.createElement("canvas");
    c.width = w; c.height = h;
    c.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(c, x, y, size * w / Math.max(h, w), size * h / Math.max(h, w));
  }

  // ---- state -----------------------------------------------------------------------------------
  const state = { frame: frameCount - 1, example: 0, drawing: false, marker: null, shown: null };
  const $ = (id) => document.getElementById(id);

  function inputPixels() {
    if (state.drawing) return drawnPixels();
    return examplePixels.subarray(state.example * nPixels, (state.example + 1) * nPixels);
  }

  // ---- panel 1: the network --------------------------------------------------------------------
  function drawNetwork() {
    const ctx = $("network").getContext("2d"), W = 640, H = 400;
    ctx.clearRect(0, 0, W, H);
    const pixels = inputPixels(), layers = forward(state.frame, pixels);
    state.shown = layers;
    drawImage(ctx, pixels, 10, H / 2 - 60, 120, rows, cols);
    ctx.strokeStyle = "#999"; ctx.strokeRect(10, H / 2 - 60, 120, 120);
    const xs = sizes.slice(1).map((_, k) => 220 + k * ((W - 300) / Math.max(1, sizes.length - 2)));
    const ys = sizes.slice(1).map((n) => Array.from({ length: n }, (_, j) => (H * (j + 0.5)) / n));
    // Edges: into layer 1, the weighted input each neuron gets from the image; later, the strongest weights.
    const first = layerWeights(state.frame, 1);
    const push = Array.from({ length: first.nOut }, (_, j) => pixels.reduce((s, v, i) => s + v * first.w(i, j), 0));
    const maxPush = Math.max(1e-9, ...push.map(Math.abs));
    push.forEach((v, j) => line(ctx, 130, H / 2, xs[0], ys[0][j], v / maxPush));
    for (let l = 2; l < sizes.length; l++) {
      const { w, nIn, nOut } = layerWeights(state.frame, l), edges = [];
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
      ctx.fillText(`${d}  ${v.toFixed(3)}`, xo + 16, ys[ys.length - 1][d]);
    });
    const label = state.drawing ? "your drawing" : `test image #${data.examples.index[state.example]}, a ${data.examples.labels[state.example]}`;
    ctx.fillStyle = "#333"; ctx.textBaseline = "alphabetic";
    ctx.fillText(label, 10, H / 2 + 80);
    ctx.fillText(`the network says ${best}`, 10, H / 2 + 98);
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
    const costs = data.frames.test_cost, accs = data.frames.test_accuracy, cmax = Math.max(...costs);
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
    const curve = (ys, Y, colour) => {
      ctx.beginPath();
      ys.forEach((v, f) => (f ? ctx.lineTo(X(epochOf(f)), Y(v)) : ctx.moveTo(X(epochOf(f)), Y(v))));
      ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.stroke();
    };
    curve(costs, Yc, "#1f5fbf");
    curve(accs, Ya, "#c0392b");
    const x = X(epochOf(state.frame));
    ctx.beginPath(); ctx.moveTo(x, T); ctx.lineTo(x, H - B); ctx.strokeStyle = "#222"; ctx.lineWidth = 1; ctx.stroke();
    [[Yc(costs[state.frame]), "#1f5fbf"], [Ya(accs[state.frame]), "#c0392b"]].forEach(([y, c]) => {
      ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fillStyle = c; ctx.fill();
    });
  }

  function drawWeights() {
    const ctx = $("weights").getContext("2d"), W = 560, H = 150;
    ctx.clearRect(0, 0, W, H);
    const { w, nIn, nOut } = layerWeights(state.frame, 1);
    const perRow = Math.ceil(nOut / Math.ceil(nOut / 8)), size = Math.min(W / perRow, H / Math.ceil(nOut / perRow)) - 6;
    for (let j = 0; j < nOut; j++) {
      let big = 1e-12;
      for (let i = 0; i < nIn; i++) big = Math.max(big, Math.abs(w(i, j)));
      const img = ctx.createImageData(cols, rows);
      for (let i = 0; i < nIn; i++) img.data.set([...diverging(w(i, j) / big), 255], 4 * i);
      const c = document.createElement("canvas");
      c.width = cols; c.height = rows;
      c.getContext("2d").putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(c, (j % perRow) * (size + 6) + 3, Math.floor(j / perRow) * (size + 6) + 3, size, size);
    }
  }

  // ---- panel 3: the landscape ------------------------------------------------------------------
  const land = data.landscape;
  let surfaceView = { yaw: -0.6, pitch: 0.6, zoom: 0.9 };
  let grid = null;
  if (land) {
    const A = land.alphas.length, B = land.betas.length, logc = land.cost.map((c) => Math.log10(c));
    const lo = Math.min(...logc), hi = Math.max(...logc);
    grid = { A, B, logc, lo, hi, t: (k) => (logc[k] - lo) / (hi - lo || 1) };
  }
  const a0 = land ? land.alphas[0] : 0, a1 = land ? land.alphas[land.alphas.length - 1] : 1;
  const b0 = land ? land.betas[0] : 0, b1 = land ? land.betas[land.betas.length - 1] : 1;
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

  let contourBase = null; // the heat map and contour lines, drawn once
  function drawContour() {
    const ctx = $("contour").getContext("2d");
    if (!contourBase) {
      contourBase = document.createElement("canvas");
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
      g.fillText(`α: PC1 (${(100 * land.explained[0]).toFixed(1)}% of the path's variance)`, CW / 2, CW - 8);
      g.save(); g.translate(12, CW / 2); g.rotate(-Math.PI / 2);
      g.fillText(`β: PC2 (${(100 * land.explained[1]).toFixed(1)}%)`, 0, 0); g.restore();
    }
    ctx.clearRect(0, 0, CW, CW);
    ctx.drawImage(contourBase, 0, 0);
    const pts = land.coords.map(([a, b]) => [toX(a), toY(b)]);
    for (let f = 1; f <= state.frame; f++) {
      ctx.beginPath(); ctx.moveTo(...pts[f - 1]); ctx.lineTo(...pts[f]);
      ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.lineWidth = 2; ctx.stroke();
    }
    pts.forEach(([x, y], f) => {
      ctx.beginPath(); ctx.arc(x, y, 2, 0, 2 * Math.PI);
      ctx.fillStyle = f <= state.frame ? "#fff" : "rgba(255,255,255,0.35)"; ctx.fill();
    });
    const [x, y] = pts[state.frame];
    ctx.beginPath(); ctx.arc(x, y, 7, 0, 2 * Math.PI);
    ctx.fillStyle = "#ff3b30"; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.stroke();
    state.marker = [x, y];
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
              const a = land.alphas[p[0]] + s * (land.alphas[q[0]] - land.alphas[p[0]]);
              const b = land.betas[p[1]] + s * (land.betas[q[1]] - land.betas[p[1]]);
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

  function drawSurface() {
    const ctx = $("surface").getContext("2d");
    ctx.clearRect(0, 0, CW, CW);
    const { A, B } = grid, P = [];
    for (let i = 0; i < A; i++) for (let j = 0; j < B; j++) P.push(project(...world(land.alphas[i], land.betas[j], grid.t(i * B + j))));
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
    const path = land.coords.map(([a, b]) => project(...world(a, b, (logCostAt(a, b) - grid.lo) / (grid.hi - grid.lo || 1) + 0.02)));
    ctx.beginPath();
    path.slice(0, state.frame + 1).forEach(([x, y], f) => (f ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.stroke();
    const [x, y] = path[state.frame];
    ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI);
    ctx.fillStyle = "#ff3b30"; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.stroke();
    ctx.fillStyle = "#555"; ctx.font = "11px system-ui";
    ctx.fillText("log cost over the PCA plane — drag to rotate, wheel to zoom", 8, 14);
  }

  function hoverText(a, b) {
    return `α = ${a.toFixed(3)}, β = ${b.toFixed(3)}, cost = ${Math.pow(10, logCostAt(a, b)).toFixed(4)}`;
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
  function setFrame(f) {
    state.frame = Math.max(0, Math.min(frameCount - 1, f));
    $("slider").value = state.frame;
    const e = epochOf(state.frame);
    $("when").textContent =
      `frame ${state.frame + 1}/${frameCount}: epoch ${e < 1 ? e.toFixed(2) : e.toFixed(e % 1 ? 2 : 0)} (step ${steps[state.frame]}) — ` +
      `test cost ${data.frames.test_cost[state.frame].toFixed(4)}, accuracy ${(100 * data.frames.test_accuracy[state.frame]).toFixed(2)}%`;
    render();
  }
  function render() {
    drawNetwork(); drawCurves(); drawWeights(); drawPad();
    if (land) { drawContour(); drawSurface(); }
  }

  // Panel 4: the run's key numbers, as a table.
  function keyNumbers(pct) {
    const rowsOf = [
      ["dataset", `${meta.dataset}: ${meta.num_train} training, ${meta.num_test} test images, ${rows}×${cols}`],
      ["network", `${sizes.join("-")}, ${meta.activation}, ${meta.cost} cost${meta.preset ? `, preset "${meta.preset}"` : ""}`],
      ["test accuracy", `${pct(data.frames.test_accuracy[0])} untrained → ${pct(meta.test_accuracy)} after ${meta.epochs} epochs`],
      ["training", meta.seconds_train != null ? `${meta.seconds_train.toFixed(1)} s (with snapshots), ${meta.steps_per_epoch} steps per epoch` : "—"],
      ["frames", `${frameCount}: the untrained network, ${meta.snapshot_every ? `every ${meta.snapshot_every} steps of epoch 1, ` : ""}the end of each later epoch`],
    ];
    if (land) rowsOf.push(["landscape plane", `PC1 ${pct(land.explained[0])} + PC2 ${pct(land.explained[1])} of the path's variance; ${land.alphas.length}×${land.betas.length} grid on ${land.images} test images`]);
    const table = $("numbers");
    for (const [k, v] of rowsOf) {
      const tr = table.insertRow();
      tr.insertCell().textContent = k; tr.insertCell().textContent = v;
    }
  }

  function setup() {
    const pct = (x) => `${(100 * x).toFixed(2)}%`;
    keyNumbers(pct);
    $("summary").textContent =
      `${meta.dataset} (${meta.num_train} training, ${meta.num_test} test images), ${meta.sizes.join("-")} network, ` +
      `${meta.preset ? `preset "${meta.preset}", ` : ""}${meta.activation}, ${meta.cost} cost; ${meta.source}. ` +
      `Test accuracy ${pct(data.frames.test_accuracy[0])} untrained → ${pct(meta.test_accuracy)} after ${meta.epochs} epochs` +
      `${meta.seconds_train != null ? ` (${meta.seconds_train.toFixed(1)} s of training)` : ""}. ` +
      (land ? `The landscape plane holds ${pct(land.explained[0] + land.explained[1])} of the trajectory's variance ` +
        `(${pct(land.explained[0])} + ${pct(land.explained[1])}): ` +
        (land.explained[0] + land.explained[1] > 0.8 ? "a faithful picture of the path." : "the path leaves the plane noticeably; read it with care.") : "");
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
      option.textContent = `#${data.examples.index[k]}: a ${label}` + (guess !== label ? ` — misclassified as ${guess}` : "");
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
      pad.style.opacity = 0.3; drawOption.disabled = true;
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
        if (!pending) pending = requestAnimationFrame(() => { pending = 0; drawNetwork(); drawPad(); });
      });
      const stop = () => { last = null; };
      pad.addEventListener("pointerup", stop);
      pad.addEventListener("pointercancel", stop);
      $("clear").onclick = () => { ink.fill(0); drawnCache = null; render(); };
    }
    if (land) {
      $("landscape-note").textContent =
        `Test cost (${land.images} images, log scale) on the plane through the final network spanned by the top two ` +
        `principal directions of the ${frameCount} recorded parameter sets; the white path is the training trajectory ` +
        `projected on it (its points lie off the plane, so the drawn height is the plane's cost below them).`;
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
          $("hover").textContent = `α = ${land.alphas[i].toFixed(3)}, β = ${land.betas[j].toFixed(3)}, cost = ${land.cost[best].toFixed(4)}`;
        }
      });
      surf.addEventListener("wheel", (ev) => {
        ev.preventDefault();
        surfaceView.zoom = Math.max(0.4, Math.min(4, surfaceView.zoom * Math.exp(-ev.deltaY * 0.001)));
        drawSurface();
      }, { passive: false });
    } else {
      $("landscape-note").textContent = "No training trajectory was recorded (a single parameter set): no plane to show.";
      ["contour", "surface"].forEach((id) => ($(id).style.display = "none"));
    }
    setFrame(frameCount - 1);
  }

  window.explorer = {
    forward, mnistStyle, setFrame, frameCount,
    frame: () => state.frame,
    frameParams: (f) => Array.from(paramsOf(f)),
    examplePixels: (k) => Array.from(examplePixels.subarray(k * nPixels, (k + 1) * nPixels)),
    ink: () => ({ rows: INK, cols: INK, values: Array.from(ink) }),
    drawnPixels: () => Array.from(drawnPixels()),
    marker: () => state.marker,
    shownActivations: () => { drawNetwork(); return state.shown; },
  };
  setup();
})();
