"""The same training epoch written four ways, so they can be timed side by side.

Every peer trains the video's network (784-16-16-10, sigmoid, the video's cost
C = mean Σ(a − y)², plain SGD θ ← θ − η∇C) on the same data, batch size and learning rate,
starting from the same parameters. Each ``make_*`` returns ``(epoch, params)``: ``epoch(params,
order)`` runs one epoch over the mini-batches ``order`` (an (steps, batch) int array of
image indices) and returns the new parameters in that peer's own format; ``to_numpy``
turns them into the usual ``[{"w", "b"}, ...]`` list of numpy arrays.

- ``numpy``: vectorised NumPy float32, backpropagation by hand (Nielsen's ``network.py``
  with matrices instead of loops).
- ``torch``: PyTorch eager, autograd and an in-place update, the usual PyTorch loop
  (``torch_cuda``: the same on the GPU, for ``experiments/accelerator_check.py``).
- ``jit_step``: one ``jax.jit``-compiled step called from a Python loop, as in JAX's
  ``examples/mnist_classifier_fromscratch.py``.
- ``jaxdigits``: the library's compiled epoch (``jaxdigits.training.make_train_epoch``): one
  XLA program per epoch that shuffles and scans over every mini-batch itself (it ignores
  ``order``: it draws its own shuffle from its key).
"""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    with np.errstate(over="ignore"):  # exp(-z) overflows to inf for very negative z: σ = 0, as it should
        return 1.0 / (1.0 + np.exp(-z))


def make_numpy(params, images, labels, learning_rate):
    """Vectorised NumPy float32 peer; parameters stay in float32 throughout."""
    ws = [np.array(layer["w"], np.float32) for layer in params]
    bs = [np.array(layer["b"], np.float32) for layer in params]
    desired = np.eye(ws[-1].shape[1], dtype=np.float32)[labels]
    eta = np.float32(learning_rate)

    def step(x, y):
        activations = [x]
        for w, b in zip(ws, bs):
            activations.append(_sigmoid(activations[-1] @ w + b))
        a = activations[-1]
        # dC/dz at the output: C = mean Σ(a − y)², and σ'(z) = a(1 − a).
        delta = (np.float32(2.0 / len(x)) * (a - y)) * a * (np.float32(1.0) - a)
        for i in range(len(ws) - 1, -1, -1):
            nabla_w, nabla_b = activations[i].T @ delta, delta.sum(axis=0)
            if i:
                delta = (delta @ ws[i].T) * activations[i] * (np.float32(1.0) - activations[i])
            ws[i] -= eta * nabla_w
            bs[i] -= eta * nabla_b

    def epoch(state, order):
        for idx in order:
            step(images[idx], desired[idx])
        return state

    def to_numpy(state):
        del state
        return [{"w": w.copy(), "b": b.copy()} for w, b in zip(ws, bs)]

    return epoch, None, to_numpy


def make_torch(params, images, labels, learning_rate, device="cpu"):
    """PyTorch eager peer: autograd for the gradient, in-place SGD update, data resident on ``device``."""
    import torch

    device = torch.device(device)
    tensors = [
        torch.tensor(np.asarray(layer[k]), device=device, requires_grad=True) for layer in params for k in ("w", "b")
    ]
    x_all = torch.from_numpy(np.array(images, np.float32)).to(device)  # a writable copy
    classes = tensors[-1].shape[0]
    desired = torch.nn.functional.one_hot(torch.from_numpy(labels.astype(np.int64)), classes).float().to(device)

    def step(idx):
        a = x_all[idx]
        for w, b in zip(tensors[::2], tensors[1::2]):
            a = torch.sigmoid(a @ w + b)
        cost = ((a - desired[idx]) ** 2).sum(dim=1).mean()
        grads = torch.autograd.grad(cost, tensors)
        with torch.no_grad():
            for t, g in zip(tensors, grads):
                t.sub_(learning_rate * g)

    def epoch(state, order):
        for idx in torch.from_numpy(order.astype(np.int64)).to(device):
            step(idx)
        if device.type == "cuda":
            torch.cuda.synchronize(device)  # the kernels run asynchronously: time them to the end
        return state

    def to_numpy(state):
        del state
        arrays = [t.detach().cpu().numpy().copy() for t in tensors]
        return [{"w": w, "b": b} for w, b in zip(arrays[::2], arrays[1::2])]

    return epoch, None, to_numpy


def make_torch_cuda(params, images, labels, learning_rate):
    """PyTorch eager on the first CUDA device (the same loop as ``make_torch``)."""
    return make_torch(params, images, labels, learning_rate, device="cuda")


def make_jit_step(params, images, labels, learning_rate):
    """A jitted SGD step called once per mini-batch from Python (JAX's MNIST example style)."""
    import jax
    import jax.numpy as jnp

    from jaxdigits import mse_cost, sgd_step

    x_all, y_all = jax.device_put(images), jax.device_put(labels)

    @jax.jit
    def step(params, idx):
        grads = jax.grad(mse_cost)(params, x_all[idx], y_all[idx])
        return sgd_step(params, grads, learning_rate)

    def epoch(state, order):
        for idx in order:
            state = step(state, idx)
        return jax.block_until_ready(state)

    state = jax.tree.map(jnp.asarray, params)
    return epoch, state, lambda state: jax.tree.map(np.asarray, state)


def make_jaxdigits(params, images, labels, learning_rate, batch_size, seed=0):
    """The library's compiled epoch; returns also ``compile_seconds``."""
    import time

    import jax
    import jax.numpy as jnp

    from jaxdigits.data import resident_pixels
    from jaxdigits.training import TrainConfig, TrainState, make_train_epoch, optimizer_for

    config = TrainConfig(learning_rate=learning_rate, batch_size=batch_size, epochs=1, seed=seed)
    optimizer = optimizer_for(config, len(labels))
    params = jax.tree.map(jnp.asarray, params)
    state = TrainState(params, optimizer.init(params), jax.random.key(seed), jnp.zeros([], jnp.int32))
    data = jax.device_put((resident_pixels(images), labels))  # as train() keeps them
    tick = time.perf_counter()
    compiled = make_train_epoch(config, optimizer).lower(state, *data, {}).compile()
    compile_seconds = time.perf_counter() - tick

    def epoch(state, order):
        del order  # the compiled epoch draws its own shuffle
        state, metrics = compiled(state, *data, {})
        return jax.block_until_ready(state)

    return epoch, state, lambda state: jax.tree.map(np.asarray, state.params), compile_seconds


PEERS = ("numpy", "torch", "jit_step", "jaxdigits")
