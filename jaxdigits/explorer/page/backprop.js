// The network's arithmetic for the explorer page: the forward pass, the cost of one example and its
// gradient by backpropagation, as jaxdigits.network computes them (the browser tests compare this
// file with jaxdigits.predict and jax.grad of jaxdigits.mse_cost).
//
// Parameters are one flat vector, layer by layer: the weights W (n_in, n_out) row by row, then the
// biases b; a layer computes a_l = act(z_l) with z_l = a_{l-1} · W_l + b_l. Arithmetic is float64.
"use strict";

// makeNetwork(sizes, activation, cost) -> {pass, backprop, mean, costOf, offsets, count}
function makeNetwork(sizes, activation, cost) {
  const L = sizes.length - 1;
  // offsets[l]: where W_l starts (b_l follows it); count: the number of parameters (13,002 for 784-16-16-10).
  const offsets = [null, 0];
  for (let l = 2; l <= L; l++) offsets.push(offsets[l - 1] + (sizes[l - 2] + 1) * sizes[l - 1]);
  const count = offsets[L] + (sizes[L - 1] + 1) * sizes[L];
  const sqrt2pi = Math.sqrt(2 / Math.PI);
  const ACT = {
    sigmoid: (z) => 1 / (1 + Math.exp(-z)),
    relu: (z) => Math.max(0, z),
    tanh: Math.tanh,
    // jax.nn.gelu (its tanh approximation): z·Φ(z) ≈ ½z(1 + tanh(√(2/π)(z + 0.044715 z³)))
    gelu: (z) => 0.5 * z * (1 + Math.tanh(sqrt2pi * (z + 0.044715 * z ** 3))),
    step: (z) => (z > 0 ? 1 : 0),
  }[activation];
  // act'(z), given z and a = act(z): σ' = σ(1 − σ), tanh' = 1 − tanh², relu' = [z > 0] (0 at 0, as
  // jax.nn.relu), the step's derivative is 0 everywhere it exists (why the video wants smooth neurons).
  const DACT = {
    sigmoid: (z, a) => a * (1 - a),
    relu: (z) => (z > 0 ? 1 : 0),
    tanh: (z, a) => 1 - a * a,
    gelu: (z) => {
      const t = Math.tanh(sqrt2pi * (z + 0.044715 * z ** 3));
      return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * sqrt2pi * (1 + 3 * 0.044715 * z * z);
    },
    step: () => 0,
  }[activation];

  // Every layer's weighted sums z and activations a for one image (a[0] is the image).
  function pass(p, pixels) {
    const a = [Array.from(pixels)], z = [null];
    for (let l = 1; l <= L; l++) {
      const nIn = sizes[l - 1], nOut = sizes[l], prev = a[l - 1], o = offsets[l], s = new Float64Array(nOut);
      for (let i = 0; i < nIn; i++) {
        if (prev[i] === 0) continue;
        const row = o + i * nOut;
        for (let j = 0; j < nOut; j++) s[j] += prev[i] * p[row + j];
      }
      for (let j = 0; j < nOut; j++) s[j] += p[o + nIn * nOut + j];
      z.push(Array.from(s));
      a.push(z[l].map(ACT));
    }
    return { a, z };
  }

  // The cost of one image and its desired output y = one_hot(label):
  //   the video's ("mse"):   C = Σ_j (a_j − y_j)²;   cross-entropy: C = −log softmax(z_L)_label.
  function costOf(p, pixels, label) {
    const { a, z } = pass(p, pixels), out = cost === "cross_entropy" ? z[L] : a[L];
    if (cost === "cross_entropy") {
      const m = Math.max(...out), s = out.reduce((t, v) => t + Math.exp(v - m), 0);
      return m + Math.log(s) - out[label];
    }
    return out.reduce((t, v, j) => t + (v - (j === label ? 1 : 0)) ** 2, 0);
  }

  // Backpropagation for one image: {cost, grad, a, dA}. grad holds ∂C/∂θ in the flat layout;
  // dA[l][j] = ∂C/∂a_l[j] (for the outputs of cross-entropy: ∂C/∂z_L[j]), so −dA is the nudge each
  // neuron "wants". The chain rule, from the output back:
  //   δ_L = ∂C/∂z_L = 2(a_L − y) ⊙ act'(z_L)   (cross-entropy: softmax(z_L) − y)
  //   ∂C/∂W_l[i][j] = a_{l−1}[i] δ_l[j],   ∂C/∂b_l[j] = δ_l[j]
  //   ∂C/∂a_{l−1} = W_l δ_l,   δ_{l−1} = ∂C/∂a_{l−1} ⊙ act'(z_{l−1}).
  function backprop(p, pixels, label) {
    const { a, z } = pass(p, pixels), y = Array.from({ length: sizes[L] }, (_, j) => (j === label ? 1 : 0));
    const dA = new Array(L + 1).fill(null), grad = new Float64Array(count);
    let delta, value;
    if (cost === "cross_entropy") {
      const m = Math.max(...z[L]), e = z[L].map((v) => Math.exp(v - m)), s = e.reduce((t, v) => t + v, 0);
      value = m + Math.log(s) - z[L][label];
      delta = e.map((v, j) => v / s - y[j]);
      dA[L] = delta.slice();
    } else {
      value = a[L].reduce((t, v, j) => t + (v - y[j]) ** 2, 0);
      dA[L] = a[L].map((v, j) => 2 * (v - y[j]));
      delta = dA[L].map((g, j) => g * DACT(z[L][j], a[L][j]));
    }
    for (let l = L; l >= 1; l--) {
      const nIn = sizes[l - 1], nOut = sizes[l], o = offsets[l], prev = a[l - 1];
      for (let i = 0; i < nIn; i++) {
        if (prev[i] === 0) continue;
        const row = o + i * nOut;
        for (let j = 0; j < nOut; j++) grad[row + j] = prev[i] * delta[j];
      }
      for (let j = 0; j < nOut; j++) grad[o + nIn * nOut + j] = delta[j];
      if (l === 1) break;
      const back = new Array(nIn).fill(0);
      for (let i = 0; i < nIn; i++) {
        const row = o + i * nOut;
        let s = 0;
        for (let j = 0; j < nOut; j++) s += p[row + j] * delta[j];
        back[i] = s;
      }
      dA[l - 1] = back;
      delta = back.map((g, i) => g * DACT(z[l - 1][i], a[l - 1][i]));
    }
    return { cost: value, grad, a, dA };
  }

  // The mean of backprop over several examples [{pixels, label}]: the mini-batch gradient
  // (jaxdigits.mse_cost averages the per-image cost over the batch). a: the first example's.
  function mean(p, examples) {
    const n = examples.length, grad = new Float64Array(count), dA = new Array(L + 1).fill(null);
    let total = 0, first = null;
    for (const { pixels, label } of examples) {
      const r = backprop(p, pixels, label);
      first = first || r;
      total += r.cost;
      for (let k = 0; k < count; k++) grad[k] += r.grad[k];
      for (let l = 1; l <= L; l++) dA[l] = dA[l] ? dA[l].map((v, j) => v + r.dA[l][j]) : r.dA[l].slice();
    }
    for (let k = 0; k < count; k++) grad[k] /= n;
    return { cost: total / n, grad, a: first.a, dA: dA.map((d) => d && d.map((v) => v / n)) };
  }

  return { pass, costOf, backprop, mean, offsets, count, act: ACT };
}

// Base64 to bytes (Uint8Array.fromBase64 where the browser has it), and the page's number arrays.
function base64Bytes(b64) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(b64);
  const text = atob(b64), bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
function float32s(b64) {
  return new Float32Array(base64Bytes(b64).buffer);
}
// IEEE 754 half precision (1 sign, 5 exponent, 10 fraction bits), widened exactly to float32.
function float16s(b64) {
  const h = new Uint16Array(base64Bytes(b64).buffer), out = new Float32Array(h.length);
  if (typeof Float16Array === "function") {
    out.set(new Float16Array(h.buffer));
    return out;
  }
  for (let i = 0; i < h.length; i++) {
    const x = h[i], sign = x & 0x8000 ? -1 : 1, e = (x >> 10) & 31, f = x & 1023;
    out[i] = e === 0 ? sign * f * 2 ** -24 : e === 31 ? (f ? NaN : sign * Infinity) : sign * (1 + f / 1024) * 2 ** (e - 15);
  }
  return out;
}
