"""The network's symmetries, and how to line two trained networks up through them.

Swap hidden neurons i and j of a layer — their incoming weights and biases (columns i, j
of that layer's ``w`` and ``b``) and their outgoing weights (rows i, j of the next layer's
``w``) — and the network computes exactly the same function from a different point of
parameter space: n! points per hidden layer of n neurons. For sigmoid and tanh there is
more: both are odd about a point, f(−z) = c − f(z) with c = 1 for σ (σ(−z) = 1 − σ(z)) and
c = 0 for tanh. So a neuron can be *flipped*: negate its incoming weights and bias (its
activation becomes c − a), negate its outgoing weights, and add c times them to the next
layer's biases, since Σᵢ aᵢ wᵢⱼ = Σᵢ (c − aᵢ')(wᵢⱼ) = Σᵢ aᵢ'(−wᵢⱼ) + c Σᵢ wᵢⱼ. A 16-unit
sigmoid layer thus has 2¹⁶·16! equivalent copies. relu has no flip (it is not odd).

A ``Symmetry`` holds, per hidden layer, ``perm`` (new neuron i is old neuron ``perm[i]``)
and ``signs`` (−1 where new neuron i is flipped). ``transform`` applies it.

Aligning network B to network A means choosing the symmetry that brings B closest to A:

- ``weight_matching`` (Ainsworth, Hayase & Srinivasa, "Git Re-Basin", 2023): maximise the
  inner product ⟨θ_A, π(θ_B)⟩. For one hidden layer ℓ, with the other layers' symmetries
  fixed, it is Σᵢ S[i, perm[i]] with S[i, j] = ⟨w_A,ℓ[:, i], w_B,ℓ[:, j]⟩ + b_A,ℓ[i]·b_B,ℓ[j]
  + ⟨w_A,ℓ+1[i, :], w_B,ℓ+1[j, :]⟩ (all weights touching the two neurons): a linear
  assignment problem (``scipy.optimize.linear_sum_assignment``). The layers are solved in
  turn, in random order, until a whole pass improves none. A flip negates every weight
  touching the neuron, so flipping B's neuron j scores −S[i, j]: with flips each pair is
  scored |S[i, j]| and flipped where S[i, j] < 0.
- ``activation_matching``: pair the neurons whose activations over the same images
  correlate most (per layer; a function-preserving change of the earlier layers does not
  change a neuron's activations). A flip turns a into c − a, negating the correlation, so
  with flips pairs are scored by |correlation|.

Both are batched over pairs: every parameter leaf may carry a leading pair axis P; the
similarity matrices of all pairs come from one jitted, vmapped program, and only the small
n × n assignments run on the host. Left out: relu's positive rescaling symmetry.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdigits import _checks
from jaxdigits.errors import InvalidArgument, InvalidArgumentType
from jaxdigits.network._model import ACTIVATIONS, hidden_activations, layer_sizes_of
from jaxdigits.precision import matmul
from jaxdigits.typing import Array, ArrayLike, Network, PRNGKey

__all__ = [
    "activation_correlations",
    "activation_matching",
    "align",
    "check_flips",
    "check_pair",
    "distance",
    "FLIP_OFFSET",
    "identity_symmetry",
    "inner_product",
    "random_symmetry",
    "Symmetry",
    "transform",
    "weight_matching",
]

# f(−z) = c − f(z): the constant c of each activation that has a flip symmetry.
FLIP_OFFSET = {"sigmoid": 1.0, "tanh": 0.0}


class Symmetry(NamedTuple):
    """Per hidden layer: ``perms[ℓ]`` (n,) ints, new neuron i = old ``perms[ℓ][i]``;
    ``signs[ℓ]`` (n,) floats ±1, −1 where new neuron i is flipped. Batched: (P, n)."""

    perms: tuple
    signs: tuple


def identity_symmetry(params: Network) -> Symmetry:
    """The symmetry that changes nothing, for a single network's ``params``."""
    hidden = layer_sizes_of(params)[1:-1]
    return Symmetry(tuple(jnp.arange(n) for n in hidden), tuple(jnp.ones(n) for n in hidden))


def random_symmetry(params: Network, *, key: PRNGKey, flips: bool = True) -> Symmetry:
    """A uniformly random permutation (and, if ``flips``, random signs) of each hidden layer."""
    hidden = layer_sizes_of(params)[1:-1]
    perms, signs = [], []
    for layer_key, n in zip(jax.random.split(key, max(1, len(hidden))), hidden):
        perm_key, sign_key = jax.random.split(layer_key)
        perms.append(jax.random.permutation(perm_key, n))
        signs.append(jax.random.rademacher(sign_key, (n,), jnp.float32) if flips else jnp.ones(n))
    return Symmetry(tuple(perms), tuple(signs))


def check_flips(activation: str, flips: bool) -> None:
    """Raise unless ``activation`` has the flip symmetry when ``flips`` is asked for."""
    _checks.name(activation, ACTIVATIONS, "activation")
    if flips and activation not in FLIP_OFFSET:
        raise InvalidArgument(
            f"activation {activation!r} has no flip symmetry (f(−z) = c − f(z) holds only for "
            f"{', '.join(sorted(FLIP_OFFSET))}); use flips=False (permutations only)"
        )


def transform(params: Network, symmetry: Symmetry, activation: str = "sigmoid") -> Network:
    """The network ``params`` with its hidden neurons permuted and flipped by ``symmetry``.

    It computes the same function: ``predict(transform(p, s), x) == predict(p, x)`` up to
    float rounding. Flipping (any sign −1) needs sigmoid or tanh; a ValueError otherwise.
    Works under ``jit``/``vmap`` (the sign check then happens only for concrete signs).
    """
    _checks.params_structure(params)
    hidden = layer_sizes_of(params)[1:-1]
    perms, signs = symmetry
    if len(perms) != len(hidden) or len(signs) != len(hidden):
        raise InvalidArgument(f"the symmetry must have one permutation and one sign vector per hidden layer ({hidden})")
    for n, perm, sign in zip(hidden, perms, signs):
        if jnp.shape(perm) != (n,) or jnp.shape(sign) != (n,):
            raise InvalidArgument(f"a hidden layer of {n} neurons needs perm and signs of shape ({n},)")
        if activation not in FLIP_OFFSET and not isinstance(sign, jax.core.Tracer):
            check_flips(activation, bool(np.any(np.asarray(sign) < 0)))
    offset = FLIP_OFFSET.get(activation, 0.0)
    params = [dict(layer) for layer in params]
    for l, (perm, sign) in enumerate(zip(perms, signs)):
        sign = jnp.asarray(sign, jnp.result_type(params[l]["w"]))
        params[l] = {"w": params[l]["w"][:, perm] * sign, "b": params[l]["b"][perm] * sign}
        rows = params[l + 1]["w"][perm, :]
        shift = offset * jnp.sum(jnp.where(sign[:, None] < 0, rows, 0.0), axis=0)
        params[l + 1] = {"w": rows * sign[:, None], "b": params[l + 1]["b"] + shift}
    return params


def check_pair(params_a: Network, params_b: Network) -> None:
    """Raise unless the two (possibly pair-stacked) networks have one architecture and finite numbers."""
    for name, p in (("params_a", params_a), ("params_b", params_b)):
        if not isinstance(p, (list, tuple)) or not p or not all(isinstance(layer, dict) for layer in p):
            raise InvalidArgumentType(f"{name} must be a list of {{'w', 'b'}} layers as made by init_params")
        _checks.params_structure(_first(p) if jnp.ndim(p[0]["w"]) == 3 else p)
        for leaf in jax.tree.leaves(p):
            if not isinstance(leaf, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(leaf))):
                raise InvalidArgument(
                    f"{name} holds NaN or infinite numbers; only trained, finite networks can be aligned"
                )
    shapes_a = [jnp.shape(leaf) for leaf in jax.tree.leaves(params_a)]
    shapes_b = [jnp.shape(leaf) for leaf in jax.tree.leaves(params_b)]
    if shapes_a != shapes_b:
        raise InvalidArgument(
            f"the two networks must have the same architecture (and number of pairs): "
            f"params_a has leaves {shapes_a}, params_b {shapes_b}"
        )


def _first(stacked):
    return jax.tree.map(lambda leaf: leaf[0], stacked)


def _batched(params_a, params_b):
    """Add a pair axis to single networks; return (a, b, was_single)."""
    single = jnp.ndim(params_a[0]["w"]) == 2
    if single:
        params_a, params_b = jax.tree.map(lambda x: x[None], (params_a, params_b))
    return params_a, params_b, single


def align(params_b: Network, symmetry: Symmetry, activation: str = "sigmoid") -> Network:
    """``transform`` for pair-stacked networks and symmetries (leading axis P), or a single one."""
    if jnp.ndim(params_b[0]["w"]) == 2:
        return transform(params_b, symmetry, activation)
    return jax.vmap(lambda p, s: transform(p, s, activation))(params_b, symmetry)


@functools.partial(jax.jit, static_argnames=("layer", "activation"))
def _weight_similarity(params_a, params_b, symmetry, *, layer, activation):
    """(P, n, n) S[i, j] of hidden layer ``layer``, B transformed by every other layer's symmetry."""

    def one(a, b, sym):
        perms, signs = list(sym.perms), list(sym.signs)
        perms[layer], signs[layer] = jnp.arange(perms[layer].shape[0]), jnp.ones_like(signs[layer])
        b = transform(b, Symmetry(tuple(perms), tuple(signs)), activation)
        incoming = matmul(a[layer]["w"].T, b[layer]["w"]) + jnp.outer(a[layer]["b"], b[layer]["b"])
        return incoming + matmul(a[layer + 1]["w"], b[layer + 1]["w"].T)

    return jax.vmap(one)(params_a, params_b, symmetry)


@functools.partial(jax.jit, static_argnames="activation")
def inner_product(params_a: Network, params_b: Network, symmetry: Symmetry, activation: str = "sigmoid") -> Array:
    """(P,) ⟨θ_A, π(θ_B)⟩ for pair-stacked networks: what weight matching maximises."""
    aligned = jax.vmap(lambda b, s: transform(b, s, activation))(params_b, symmetry)
    return jax.vmap(optax.tree.vdot)(params_a, aligned)


def _assign(score, flips):
    """Best assignment of one n × n score: (perm, signs), new neuron i = old perm[i]."""
    from scipy.optimize import linear_sum_assignment  # scipy only where assignments are solved

    score = np.asarray(score, np.float64)
    _, perm = linear_sum_assignment(np.abs(score) if flips else score, maximize=True)
    chosen = score[np.arange(len(perm)), perm]
    signs = np.where(chosen < 0, -1.0, 1.0) if flips else np.ones(len(perm))
    return perm, signs, float(np.sum(signs * chosen))


def weight_matching(
    params_a: Network,
    params_b: Network,
    *,
    key: PRNGKey,
    activation: str = "sigmoid",
    flips: bool = False,
    max_passes: int = 100,
) -> tuple[Symmetry, int]:
    """The symmetry of B that maximises ⟨θ_A, π(θ_B)⟩, by coordinate ascent over the layers.

    Args:
      params_a, params_b: two networks of one architecture, or P pairs of them stacked along
        a leading axis of every leaf (e.g. ``member``-style stacks from ``train_population``).
      key: a ``jax.random`` key for the order in which the layers are visited.
      activation: the networks' activation (decides what a flip does).
      flips: also consider flipping neurons (sigmoid and tanh only; ValueError otherwise).
      max_passes: upper bound on passes over all hidden layers.

    Returns:
      ``(symmetry, passes)``: the ``Symmetry`` (batched like the inputs) and how many
      passes ran. ``align(params_b, symmetry, activation)`` is B aligned to A.
    """
    check_pair(params_a, params_b)
    check_flips(activation, flips)
    a, b, single = _batched(params_a, params_b)
    n_pairs, hidden = jnp.shape(a[0]["w"])[0], layer_sizes_of(_first(a))[1:-1]
    perms = [np.tile(np.arange(n), (n_pairs, 1)) for n in hidden]
    signs = [np.ones((n_pairs, n)) for n in hidden]
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel())
    passes = 0
    while passes < max_passes:
        passes, improved = passes + 1, False
        for layer in rng.permutation(len(hidden)):
            symmetry = Symmetry(tuple(map(jnp.asarray, perms)), tuple(jnp.asarray(s, jnp.float32) for s in signs))
            scores = np.asarray(_weight_similarity(a, b, symmetry, layer=int(layer), activation=activation))
            for p in range(n_pairs):
                perm, sign, value = _assign(scores[p], flips)
                old = float(np.sum(signs[layer][p] * scores[p][np.arange(len(perm)), perms[layer][p]]))
                if value > old + 1e-6 * max(1.0, abs(old)):
                    perms[layer][p], signs[layer][p], improved = perm, sign, True
        if not improved:
            break
    symmetry = Symmetry(tuple(map(jnp.asarray, perms)), tuple(jnp.asarray(s, jnp.float32) for s in signs))
    return (_first(symmetry) if single else symmetry), passes


@functools.partial(jax.jit, static_argnames="activation")
def activation_correlations(
    params_a: Network, params_b: Network, images: ArrayLike, activation: str = "sigmoid"
) -> list[Array]:
    """Per hidden layer, (P, n, n) correlations over ``images`` of A's neuron i with B's neuron j.

    A neuron that never changes over the images has no correlation; it scores 0.
    """

    def standardised(h):
        h = h - jnp.mean(h, axis=0)
        std = jnp.sqrt(jnp.mean(h**2, axis=0))
        return jnp.where(std > 1e-6, h / jnp.maximum(std, 1e-6), 0.0)

    def one(a, b):
        pairs = zip(hidden_activations(a, images, activation), hidden_activations(b, images, activation))
        return [matmul(standardised(ha).T, standardised(hb)) / images.shape[0] for ha, hb in pairs]

    return jax.vmap(one)(params_a, params_b)


def activation_matching(
    params_a: Network, params_b: Network, images: ArrayLike, *, activation: str = "sigmoid", flips: bool = False
) -> Symmetry:
    """The symmetry of B whose neurons' activations correlate best with A's, layer by layer.

    Args:
      params_a, params_b: as in ``weight_matching`` (single networks or P stacked pairs).
      images: (N, pixels) images to compare activations on, e.g. a few thousand training images.
      activation: the networks' activation.
      flips: score pairs by |correlation| and flip where it is negative (sigmoid, tanh only).

    Returns:
      A ``Symmetry`` (batched like the inputs): for each layer, the assignment maximising
      the summed correlation Σᵢ corr(A's neuron i, B's neuron perm[i]) (times its sign).
    """
    check_pair(params_a, params_b)
    check_flips(activation, flips)
    a, b, single = _batched(params_a, params_b)
    _checks.params_and_images(_first(a), images)
    correlations = jax.device_get(activation_correlations(a, b, jnp.asarray(images), activation))
    perms, signs = [], []
    for corr in correlations:
        chosen = [_assign(c, flips)[:2] for c in corr]
        perms.append(jnp.asarray(np.stack([c[0] for c in chosen])))
        signs.append(jnp.asarray(np.stack([c[1] for c in chosen]), jnp.float32))
    symmetry = Symmetry(tuple(perms), tuple(signs))
    return _first(symmetry) if single else symmetry


@jax.jit
def distance(params_a: Network, params_b: Network) -> Array:
    """‖θ_A − θ_B‖ (per pair for stacked networks: (P,))."""
    length = lambda a, b: optax.tree.norm(optax.tree.sub(a, b))
    return jax.vmap(length)(params_a, params_b) if jnp.ndim(params_a[0]["w"]) == 3 else length(params_a, params_b)
