"""Q-network builders, the network parts of Rainbow, and a NumPy forward pass for small MLPs.

The blog builds its network in ``DQNAgent._build_model()``: a Keras ``Sequential`` of
Dense layers, compiled with an MSE loss and Adam. :func:`build_mlp` is that model, with
the hidden sizes and an initializer seed as arguments; :func:`build_nature_cnn` is the
Atari network of the Nature DQN paper.

Rainbow (Hessel et al., 2018) changes the network in two ways; both are options of the builders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_dqn.checks import check_positive_number
from keras_dqn.networks.heads import check_atoms, q_head
from keras_dqn.networks.noisy import NoisyDense

ADAM_EPSILON = 1e-7  # Keras' own default


def _adam(learning_rate: float, clipnorm: float | None, epsilon: float) -> keras.optimizers.Optimizer:
    """Every Q-network's optimizer: Adam, its gradients clipped to ``clipnorm`` (if set)."""
    return keras.optimizers.Adam(
        learning_rate=learning_rate, clipnorm=clipnorm, epsilon=check_positive_number("adam_epsilon", epsilon),
        name="adam",
    )  # fmt: skip


def build_mlp(
    state_size: int,
    action_size: int,
    hidden: Sequence[int] = (24, 24),
    *,
    learning_rate: float = 0.001,
    loss: str = "mse",
    dueling: bool = False,
    clipnorm: float | None = None,
    seed: int | None = None,
    noisy: bool = False,
    n_atoms: int = 1,
    sigma0: float = 0.5,
    adam_epsilon: float = ADAM_EPSILON,
    noisy_hidden: bool = True,
) -> keras.Sequential:
    """The blog's Q-network: ``state_size`` inputs, ReLU hidden layers, linear outputs.

    Layers (fixed names, so weight files read the same in every process): ``dense``,
    ``dense_1``, ... (the hidden layers) and ``q_values`` (the output head).

    Args:
        state_size: length of the observation vector (4 for CartPole).
        action_size: number of discrete actions; one linear Q-value output per action.
        hidden: units of each hidden ReLU layer, in order (the blog uses ``(24, 24)``).
        learning_rate: Adam's learning rate.
        loss: Keras loss name used in ``compile`` (the blog's ``"mse"``, or ``"huber"``).
        dueling: end in a :class:`DuelingHead` instead of one Dense layer.
        clipnorm: if set, Adam clips each gradient to this L2 norm.
        seed: seeds the weight initializers (and the noise), so two models built with one seed are equal.
        noisy: make every layer, hidden and output, a :class:`NoisyDense` (noisy nets).
        noisy_hidden: with ``noisy``, ``False`` keeps the hidden layers plain ``Dense`` and puts
            the noise in the output head alone.
        n_atoms: atoms per action; above 1 the model outputs C51 probabilities of shape
            ``(batch, action_size, n_atoms)`` (a :class:`DistributionalHead`, or a distributional
            :class:`DuelingHead`), at 1 Q-values of shape ``(batch, action_size)``.
        sigma0: initial noise scale of the noisy layers.
        adam_epsilon: Adam's epsilon, added to the root of its second-moment estimate; a larger
            one damps the steps when gradients are tiny (Keras' 1e-7; the Rainbow paper's 1.5e-4).

    Returns:
        A compiled ``keras.Sequential``.

    Raises:
        ValueError: ``n_atoms`` is not an integer >= 1, or ``sigma0`` is not > 0.
    """
    n_atoms = check_atoms(n_atoms)
    sigma0 = check_positive_number("sigma0", sigma0)
    seeds = np.random.SeedSequence(seed).generate_state(len(hidden) + 1) if seed is not None else None

    def layer_seed(i: int) -> int | None:
        return None if seeds is None else int(seeds[i])

    model = keras.Sequential(name="q_network")
    model.add(keras.Input(shape=(state_size,), name="state"))
    for i, units in enumerate(hidden):
        if noisy and noisy_hidden:
            model.add(NoisyDense(units, activation="relu", sigma0=sigma0, seed=layer_seed(i), name=_nth("dense", i)))
        else:
            init = keras.initializers.GlorotUniform(seed=layer_seed(i))
            model.add(keras.layers.Dense(units, activation="relu", kernel_initializer=init, name=_nth("dense", i)))
    model.add(
        q_head(action_size, dueling=dueling, noisy=noisy, n_atoms=n_atoms, sigma0=sigma0, seed=layer_seed(len(hidden)))
    )
    model.compile(loss=loss, optimizer=_adam(learning_rate, clipnorm, adam_epsilon))
    return model


def build_nature_cnn(
    state_shape: Sequence[int],
    action_size: int,
    *,
    learning_rate: float = 1e-4,
    loss: str = "huber",
    dueling: bool = False,
    clipnorm: float | None = None,
    channels_first: bool = True,
    seed: int | None = None,
    noisy: bool = False,
    n_atoms: int = 1,
    sigma0: float = 0.5,
    adam_epsilon: float = ADAM_EPSILON,
    dtype_policy: str | keras.DTypePolicy | None = None,
    noisy_hidden: bool = True,
) -> keras.Sequential:
    """The Nature-DQN network (Mnih et al., 2015) for stacks of Atari frames.

    ``uint8`` frames go in as they come from the environment; the model casts them and scales
    them to [0, 1] itself, so the replay memory can keep 1 byte per pixel.  Then: 32 filters
    8×8 stride 4, 64 filters 4×4 stride 2, 64 filters 3×3 stride 1 (all ReLU), a 512-unit ReLU
    layer, and one linear Q-value per action (or a :class:`DuelingHead`).

    Layers (fixed names): ``frames_last`` (channels first only), ``scale``, ``conv2d``,
    ``conv2d_1``, ``conv2d_2``, ``flatten``, ``dense`` (the 512 units) and ``q_values``.

    Args:
        state_shape: shape of one observation, e.g. ``(4, 84, 84)`` from gymnasium's
            ``FrameStackObservation`` (frames first) or ``(84, 84, 4)`` (frames last).
        action_size: number of discrete actions.
        learning_rate: as :func:`build_mlp`.
        loss: as :func:`build_mlp`.
        dueling: as :func:`build_mlp`.
        clipnorm: as :func:`build_mlp`.
        seed: as :func:`build_mlp`.
        channels_first: the stacked frames are the first axis.  TensorFlow's CPU
            convolutions need channels last, so the model starts with a ``Permute``.
        noisy: make the fully connected layers (the 512 units and the head) :class:`NoisyDense`.
        noisy_hidden: with ``noisy``, ``False`` keeps the 512-unit layer a plain ``Dense`` and
            puts the noise in the head alone.  The noisy 3136×512 layer is most of a noisy
            network's cost on a CPU: its second weight matrix doubles that layer's work and Adam's.
        n_atoms: as :func:`build_mlp`.
        sigma0: as :func:`build_mlp`.
        adam_epsilon: as :func:`build_mlp`.
        dtype_policy: ``None`` (the global Keras policy, float32 unless changed) or a Keras
            dtype policy such as ``"mixed_bfloat16"``, given to every layer but the output
            head: those layers compute in bfloat16 and keep float32 weights, while the head
            (and its softmax) computes in float32, so Q-values and probabilities come out
            float32.  Worth it where :func:`bf16_supported` says so.  The global policy is
            left alone.

    Returns:
        A compiled ``keras.Sequential`` taking ``uint8`` input.

    Raises:
        ValueError: ``n_atoms`` < 1, ``sigma0`` <= 0, or a ``dtype_policy`` Keras does not know.
    """
    n_atoms = check_atoms(n_atoms)
    sigma0 = check_positive_number("sigma0", sigma0)
    policy = _dtype_policy(dtype_policy)
    head_policy = None if policy is None else keras.DTypePolicy("float32")
    seeds = np.random.SeedSequence(seed).generate_state(6) if seed is not None else None

    def layer_seed(i: int) -> int | None:
        return None if seeds is None else int(seeds[i])

    def init(i: int) -> keras.initializers.Initializer:  # He init suits ReLU conv stacks
        return keras.initializers.HeUniform(seed=layer_seed(i))

    model = keras.Sequential(name="nature_cnn")
    model.add(keras.Input(shape=tuple(state_shape), dtype="uint8", name="frames"))
    if channels_first:
        model.add(keras.layers.Permute((2, 3, 1), name="frames_last", dtype=policy))  # (k, H, W) -> (H, W, k)
    model.add(keras.layers.Rescaling(1.0 / 255.0, name="scale", dtype=policy))  # uint8 -> floats in [0, 1]
    for i, (filters, size, stride) in enumerate(((32, 8, 4), (64, 4, 2), (64, 3, 1))):
        model.add(keras.layers.Conv2D(
            filters, size, strides=stride, activation="relu", kernel_initializer=init(i), name=_nth("conv2d", i),
            dtype=policy,
        ))  # fmt: skip
    model.add(keras.layers.Flatten(name="flatten", dtype=policy))
    if noisy and noisy_hidden:
        model.add(NoisyDense(512, activation="relu", sigma0=sigma0, seed=layer_seed(3), name="dense", dtype=policy))
    else:
        model.add(keras.layers.Dense(512, activation="relu", kernel_initializer=init(3), name="dense", dtype=policy))
    model.add(
        q_head(
            action_size,
            dueling=dueling,
            noisy=noisy,
            n_atoms=n_atoms,
            sigma0=sigma0,
            seed=layer_seed(4),
            dtype=head_policy,
        )
    )
    model.compile(loss=loss, optimizer=_adam(learning_rate, clipnorm, adam_epsilon))
    return model


def _dtype_policy(dtype_policy: Any) -> keras.DTypePolicy | None:
    """``None``, or ``dtype_policy`` as a ``keras.DTypePolicy`` (a name such as ``"mixed_bfloat16"``, or one)."""
    if dtype_policy is None or isinstance(dtype_policy, keras.DTypePolicy):
        return dtype_policy
    if not isinstance(dtype_policy, str):
        raise ValueError(
            f"dtype_policy must be None, a policy name such as 'mixed_bfloat16' or a "
            f"keras.DTypePolicy, got {dtype_policy!r}"
        )
    try:
        return keras.DTypePolicy(dtype_policy)
    except ValueError as error:
        raise ValueError(f"dtype_policy {dtype_policy!r} is not a Keras dtype policy: {error}") from None


def _nth(kind: str, i: int) -> str:
    """The name Keras gives the ``i``-th layer of a kind in a fresh process (``dense``, ``dense_1``...).

    Our builders name every layer and the optimizer themselves.  Keras' automatic names count
    up through the process (``dense_57``), and each new variable name costs ~20 KB that
    TensorFlow never frees (its eager kernel cache keys the ``VarHandleOp`` by the name), so
    building many agents in one process grew without bound.  Fixed names also make saved
    files the same whatever the process built before."""
    return kind if i == 0 else f"{kind}_{i}"
