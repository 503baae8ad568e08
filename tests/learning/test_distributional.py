"""The C51 projection, checked against hand computations on 5 atoms at -2, -1, 0, 1, 2 (dz = 1)."""

import math

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy

import keras_dqn  # noqa: F401  (TF imported quietly)
from keras_dqn.learning.distributional import cross_entropy, expected_q, expected_q_numpy, project_distribution, support

Z = support(5, -2.0, 2.0)  # [-2, -1, 0, 1, 2]
P = np.array([0.10, 0.20, 0.30, 0.15, 0.25], np.float32)  # a next-state distribution
UNIFORM = np.full(5, 0.2, np.float32)


def project(probs, rewards, discounts, atoms=Z):
    """Eager projection of a batch, as NumPy."""
    probs = np.asarray(probs, np.float32)
    return to_numpy(project_distribution(
        probs, np.asarray(rewards, np.float32), np.asarray(discounts, np.float32), atoms
    ))


def project_one(probs, reward, discount, atoms=Z):
    return project([probs], [reward], [discount], atoms)[0]


def compiled(fn):
    """``fn`` compiled as the backend compiles a training step: XLA through ``tf.function`` on
    TensorFlow (which fails if XLA cannot compile it) or ``jax.jit``; eager on PyTorch."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xla = tf.function(lambda *args: fn(*args), jit_compile=True)  # (positional arguments only: no defaults)

        def run(*args):
            xla.experimental_get_compiler_ir(*args)(stage="hlo")  # only an XLA-compiled function has HLO
            return xla(*args)

        return run
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


def project_xla(probs, rewards, discounts, atoms=Z):
    """The same projection, compiled (see :func:`compiled`)."""
    fn = compiled(lambda p, r, d: project_distribution(p, r, d, atoms))
    args = (np.asarray(probs, np.float32), np.asarray(rewards, np.float32), np.asarray(discounts, np.float32))
    return to_numpy(fn(*args))


def reference(probs, rewards, discounts, atoms):
    """Algorithm 1 of Bellemare et al. (2017), one transition and one atom at a time, in float64."""
    probs, atoms = np.asarray(probs, np.float64), np.asarray(atoms, np.float64)
    n = len(atoms)
    v_min, v_max = atoms[0], atoms[-1]
    dz = (v_max - v_min) / (n - 1)
    m = np.zeros_like(probs)
    for row in range(len(probs)):
        for j in range(n):
            tz = min(max(rewards[row] + discounts[row] * atoms[j], v_min), v_max)
            b = min((tz - v_min) / dz, n - 1)
            lo, up = math.floor(b), math.ceil(b)
            if lo == up:
                m[row, lo] += probs[row, j]
            else:
                m[row, lo] += probs[row, j] * (up - b)
                m[row, up] += probs[row, j] * (b - lo)
    return m


# --- support -----------------------------------------------------------------------------


def test_support_atoms():
    np.testing.assert_array_equal(Z, [-2, -1, 0, 1, 2])
    assert Z.dtype == np.float32 and Z.shape == (5,)
    atoms = support(51, -10.0, 10.0)
    assert atoms.dtype == np.float32 and atoms.shape == (51,)
    assert atoms[0] == -10.0 and atoms[-1] == 10.0 and atoms[25] == 0.0
    np.testing.assert_allclose(np.diff(atoms), 0.4, rtol=1e-5)
    np.testing.assert_array_equal(support(2, -1, 3), [-1, 3])  # ints accepted
    np.testing.assert_array_equal(support(np.int64(3), np.float32(0), 1.0), [0, 0.5, 1])


@pytest.mark.parametrize(
    "args, message",
    [
        ((1, -2.0, 2.0), "n_atoms must be an integer >= 2, got 1"),
        ((0, -2.0, 2.0), "n_atoms must be an integer >= 2, got 0"),
        ((-3, -2.0, 2.0), "n_atoms must be an integer >= 2"),
        ((5.0, -2.0, 2.0), "n_atoms must be an integer >= 2, got 5.0"),
        ((True, -2.0, 2.0), "n_atoms must be an integer >= 2, got True"),
        (("51", -2.0, 2.0), "n_atoms must be an integer >= 2"),
        ((5, 2.0, 2.0), "v_min must be below v_max, got v_min=2.0, v_max=2.0"),
        ((5, 3.0, -3.0), "v_min must be below v_max, got v_min=3.0, v_max=-3.0"),
        ((5, float("nan"), 2.0), "v_min must be finite"),
        ((5, -2.0, float("inf")), "v_max must be finite"),
        ((5, -float("inf"), 2.0), "v_min must be finite"),
        ((5, None, 2.0), "v_min must be a number"),
        ((5, -2.0, "2"), "v_max must be a number"),
        ((3, 1.0, 1.0000001), "must be distinct, finite float32"),  # the atoms collapse in float32
        ((3, -1e39, 1e39), "must be distinct, finite float32"),  # beyond float32's range
    ],
)
def test_support_rejects_bad_inputs(args, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        support(*args)


# --- project_distribution: hand computations ----------------------------------------------


def test_identity_when_reward_0_and_discount_1():
    np.testing.assert_allclose(project_one(P, 0.0, 1.0), P, atol=1e-7)


def test_shift_exactly_onto_atoms_keeps_all_mass():
    # r = 1, discount = 1: z_j + 1 = -1, 0, 1, 2, 3 -> clipped to -1, 0, 1, 2, 2.  Every b is an
    # exact integer (l == u), which the classic u = ceil(b) version loses entirely.
    m = project_one(P, 1.0, 1.0)
    np.testing.assert_allclose(m, [0.0, 0.10, 0.20, 0.30, 0.15 + 0.25], atol=1e-7)
    # r = -1: -3, -2, -1, 0, 1 -> clipped to -2, -2, -1, 0, 1
    np.testing.assert_allclose(project_one(P, -1.0, 1.0), [0.30, 0.30, 0.15, 0.25, 0.0], atol=1e-7)
    # discount 0.5, r = 0: -1, -0.5, 0, 0.5, 1 -> integers and halves
    np.testing.assert_allclose(project_one(P, 0.0, 0.5), [0, 0.1 + 0.1, 0.1 + 0.3 + 0.075, 0.075 + 0.25, 0], atol=1e-7)


def test_landing_between_atoms_splits_mass_by_closeness():
    # the module docstring's picture: r = 0.5, discount 0.5 -> -0.5, 0, 0.5, 1, 1.5
    np.testing.assert_allclose(project_one(P, 0.5, 0.5), [0.0, 0.05, 0.40, 0.425, 0.125], atol=1e-7)
    # r = 0.5, discount 1: -1.5, -0.5, 0.5, 1.5, 2.5 -> 2.5 clipped to 2
    np.testing.assert_allclose(project_one(P, 0.5, 1.0), [0.05, 0.15, 0.25, 0.225, 0.325], atol=1e-7)
    # r = 0.25 on a uniform distribution: each atom gives 3/4 to its own atom and 1/4 to the next one up
    m = project_one(UNIFORM, 0.25, 1.0)
    np.testing.assert_allclose(m, [0.15, 0.2, 0.2, 0.2, 0.05 + 0.2], atol=1e-7)


def test_atoms_pushed_beyond_the_support_pile_on_the_end_atoms():
    # r = 3: 1, 2, 3, 4, 5 -> 1, 2, 2, 2, 2
    np.testing.assert_allclose(project_one(P, 3.0, 1.0), [0, 0, 0, 0.10, 0.90], atol=1e-7)
    # r = -3.5: -5.5 .. -1.5 -> -2, -2, -2, -2, -1.5
    np.testing.assert_allclose(project_one(P, -3.5, 1.0), [0.875, 0.125, 0, 0, 0], atol=1e-7)


@pytest.mark.parametrize(
    "reward, expected",
    [
        (0.0, [0, 0, 1, 0, 0]),
        (-1.0, [0, 1, 0, 0, 0]),
        (2.0, [0, 0, 0, 0, 1]),
        (0.5, [0, 0, 0.5, 0.5, 0]),
        (0.25, [0, 0, 0.75, 0.25, 0]),
        (-1.75, [0.75, 0.25, 0, 0, 0]),
        (7.0, [0, 0, 0, 0, 1]),  # beyond v_max: clipped onto it
        (-9.0, [1, 0, 0, 0, 0]),  # below v_min
    ],
)
def test_terminal_transition_puts_all_mass_around_the_clipped_reward(reward, expected):
    for probs in (P, UNIFORM, [1, 0, 0, 0, 0]):
        np.testing.assert_allclose(project_one(probs, reward, 0.0), expected, atol=1e-7)


def test_rewards_outside_the_support():
    # every r + 0.99 z_j lies beyond the support
    np.testing.assert_allclose(project_one(P, 10.0, 0.99), [0, 0, 0, 0, 1], atol=1e-7)
    np.testing.assert_allclose(project_one(P, -10.0, 0.99), [1, 0, 0, 0, 0], atol=1e-7)
    # partly beyond: r = 2.5, discount 0.5 -> 1.5, 2, 2.5, 3, 3.5 -> 1.5, 2, 2, 2, 2
    np.testing.assert_allclose(project_one(P, 2.5, 0.5), [0, 0, 0, 0.05, 0.95], atol=1e-7)


# --- batches, mass, mean, XLA --------------------------------------------------------------

# one row per case above: (probs, reward, discount, hand-computed target)
CASES = [
    (P, 0.0, 1.0, P),
    (P, 1.0, 1.0, [0.0, 0.10, 0.20, 0.30, 0.40]),
    (P, 0.5, 0.5, [0.0, 0.05, 0.40, 0.425, 0.125]),
    (P, 0.5, 1.0, [0.05, 0.15, 0.25, 0.225, 0.325]),
    (P, 3.0, 1.0, [0, 0, 0, 0.10, 0.90]),
    (P, -3.5, 1.0, [0.875, 0.125, 0, 0, 0]),
    (P, 0.25, 0.0, [0, 0, 0.75, 0.25, 0]),
    (UNIFORM, 7.0, 0.0, [0, 0, 0, 0, 1]),
    (P, -10.0, 0.99, [1, 0, 0, 0, 0]),
    (P, 2.5, 0.5, [0, 0, 0, 0.05, 0.95]),
]


def batch_of(cases):
    probs = np.array([c[0] for c in cases], np.float32)
    rewards = np.array([c[1] for c in cases], np.float32)
    discounts = np.array([c[2] for c in cases], np.float32)
    expected = np.array([c[3] for c in cases], np.float32)
    return probs, rewards, discounts, expected


def test_a_batch_mixing_every_case_matches_each_row_alone():
    probs, rewards, discounts, expected = batch_of(CASES)
    m = project(probs, rewards, discounts)
    assert m.shape == (len(CASES), 5) and m.dtype == np.float32
    np.testing.assert_allclose(m, expected, atol=1e-7)
    for row, (p, r, d, _) in enumerate(CASES):
        np.testing.assert_array_equal(m[row], project_one(p, r, d))
    np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-6)


def random_batch(rng, batch, atoms, reward_scale):
    probs = rng.dirichlet(np.full(len(atoms), 0.5), size=batch).astype(np.float32)
    rewards = rng.uniform(-reward_scale, reward_scale, batch).astype(np.float32)
    discounts = rng.choice([0.0, 0.5, 0.9, 0.99, 0.99**3, 1.0], size=batch).astype(np.float32)
    rewards[: batch // 10] = np.round(rewards[: batch // 10])  # some land exactly on atoms
    return probs, rewards, discounts


@pytest.mark.parametrize("n_atoms, v_min, v_max", [(5, -2.0, 2.0), (51, -10.0, 10.0), (8, -10.0, 0.1), (21, -1.3, 0.7)])
def test_random_batches_keep_mass_and_match_the_paper_algorithm(n_atoms, v_min, v_max):
    rng = np.random.default_rng(n_atoms)
    atoms = support(n_atoms, v_min, v_max)
    probs, rewards, discounts = random_batch(rng, 500, atoms, 1.5 * max(abs(v_min), abs(v_max)))
    m = project(probs, rewards, discounts, atoms)
    assert np.all(m >= 0)
    np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-6)  # mass sums to 1 everywhere
    # float32 rounds Tz and b by a few ulps of numbers up to ~N, which shifts a share by up to ~5e-6 on 51 atoms
    np.testing.assert_allclose(m, reference(probs, rewards, discounts, atoms), atol=1e-5)


def test_mean_is_kept_when_nothing_is_clipped():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(5), size=200).astype(np.float32)
    discounts = rng.uniform(0.0, 0.5, 200).astype(np.float32)
    rewards = rng.uniform(-1.0, 1.0, 200).astype(np.float32)  # |r| + 0.5 * 2 <= 2: inside [-2, 2]
    m = project(probs, rewards, discounts)
    np.testing.assert_allclose(m @ Z, rewards + discounts * (probs @ Z), atol=1e-5)


def test_eager_and_xla_compiled_agree():
    probs, rewards, discounts, expected = batch_of(CASES)
    eager = project(probs, rewards, discounts)
    xla = project_xla(probs, rewards, discounts)
    np.testing.assert_allclose(xla, eager, atol=1e-7)
    np.testing.assert_allclose(xla, expected, atol=1e-7)
    rng = np.random.default_rng(2)
    atoms = support(51, -10.0, 10.0)
    probs, rewards, discounts = random_batch(rng, 256, atoms, 15.0)
    eager, xla = project(probs, rewards, discounts, atoms), project_xla(probs, rewards, discounts, atoms)
    np.testing.assert_allclose(xla, eager, atol=1e-5)  # XLA may round b differently in the last place


@pytest.mark.tensorflow_only
def test_traces_with_an_unknown_batch_size():
    import tensorflow as tf

    spec = [tf.TensorSpec([None, 5], tf.float32), tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.float32)]
    fn = tf.function(lambda p, r, d: project_distribution(p, r, d, Z), input_signature=spec, jit_compile=True)
    probs, rewards, discounts, expected = batch_of(CASES)
    np.testing.assert_allclose(fn(probs, rewards, discounts).numpy(), expected, atol=1e-7)
    np.testing.assert_allclose(fn(probs[:3], rewards[:3], discounts[:3]).numpy(), expected[:3], atol=1e-7)


def test_float32_rounding_around_the_last_atom():
    f32 = np.float32
    # terminal rewards whose b = (r - v_min) / dz is one float32 step off 4 (the last atom) or 3
    b_below_4, b_above_3 = np.nextafter(f32(4), f32(0)), np.nextafter(f32(3), f32(4))  # 3.9999998, 3.0000002
    rewards = [b_below_4 - f32(2), np.nextafter(f32(2), f32(3)), b_above_3 - f32(2)]
    assert rewards[0] - f32(-2) == b_below_4 and rewards[2] - f32(-2) == b_above_3  # the b values are as named
    m = project([P, P, P], rewards, [0.0, 0.0, 0.0])
    # b = 3.9999998: the mass is shared 2.4e-7 / 0.99999976 between atoms 3 and 4, none lost
    np.testing.assert_allclose(m[0], [0, 0, 0, 4 - b_below_4, b_below_4 - 3], rtol=1e-5, atol=0)
    assert 0.0 < m[0, 3] < 1e-6
    np.testing.assert_array_equal(m[1], [0, 0, 0, 0, 1])  # r = 2.0000002 would give b = 4.0000002: clipped first
    np.testing.assert_allclose(m[2], [0, 0, 0, 4 - b_above_3, b_above_3 - 3], rtol=1e-5, atol=0)  # b = 3.0000002
    np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-7)
    np.testing.assert_allclose(project_xla([P, P, P], rewards, [0.0, 0.0, 0.0]), m, atol=1e-7)

    # On 8 atoms over [-10, 0.1] float32 puts v_max at b = (v_max - v_min) / dz = 7.0000005, past
    # the last atom (index 7): floor 7, and a share 5e-7 * p_j would go to atom 8, which does not exist.
    atoms = support(8, -10.0, 0.1)
    span = atoms[-1] - atoms[0]  # float32, as the projection computes it
    assert float(span / (span / np.float32(7.0))) > 7.0  # the rounding this case is about really happens
    probs = np.full((4, 8), 1 / 8, np.float32)
    rewards, discounts = [atoms[-1], 100.0, atoms[-1], 0.1], [0.0, 0.9, 1.0, 1.0]
    last = np.eye(8, dtype=np.float32)[7]
    for m in (project(probs, rewards, discounts, atoms), project_xla(probs, rewards, discounts, atoms)):
        np.testing.assert_array_equal(m[:2], [last, last])  # exactly: 8 shares of 1/8, nothing lost
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-7)
        np.testing.assert_allclose(m[2:], reference(probs[2:], rewards[2:], discounts[2:], atoms), atol=1e-6)


def test_other_dtypes_and_python_inputs():
    m = project_distribution([P.tolist()], [1], [1], Z)  # Python lists and ints
    assert keras.backend.standardize_dtype(m.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(m)[0], [0.0, 0.10, 0.20, 0.30, 0.40], atol=1e-7)
    if keras.backend.backend() == "jax":  # JAX computes in float32 unless told otherwise (jax_enable_x64)
        return
    m64 = project_distribution(P[None].astype(np.float64), [0.5], [0.5], Z)
    assert keras.backend.standardize_dtype(m64.dtype) == "float64"
    np.testing.assert_allclose(to_numpy(m64)[0], [0.0, 0.05, 0.40, 0.425, 0.125], atol=1e-12)


def test_project_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"next_probs must have one entry per atom \(5\) on its last axis, got 4"):
        project_distribution(np.full((2, 4), 0.25, np.float32), [0, 0], [1, 1], Z)
    with pytest.raises(ValueError, match=r"next_probs must have shape \(batch, n_atoms\)"):
        project_distribution(P, [0.0], [1.0], Z)
    with pytest.raises(ValueError, match="atoms must be a vector of at least 2 values"):
        project_distribution(P[None], [0.0], [1.0], Z[None])


# --- expected_q and cross_entropy ---------------------------------------------------------


def test_expected_q():
    probs = np.array(
        [[P, UNIFORM, [0, 0, 0, 0, 1]], [[1, 0, 0, 0, 0], [0, 0.5, 0, 0.5, 0], [0.25, 0, 0.5, 0, 0.25]]], np.float32
    )  # (B=2, A=3, N=5)
    expected = [[0.25, 0.0, 2.0], [-2.0, 0.0, 0.0]]  # P: -0.2 - 0.2 + 0 + 0.15 + 0.5
    q = expected_q(probs, Z)
    assert q.shape == (2, 3)
    np.testing.assert_allclose(to_numpy(q), expected, atol=1e-6)
    np.testing.assert_allclose(expected_q_numpy(probs, Z), expected, atol=1e-6)
    xla = compiled(lambda p: expected_q(p, Z))
    np.testing.assert_allclose(to_numpy(xla(probs)), expected, atol=1e-6)
    with pytest.raises(ValueError, match="one entry per atom"):
        expected_q(probs[..., :4], Z)
    with pytest.raises(ValueError, match="one entry per atom"):
        expected_q_numpy(probs[..., :4], Z)


def test_cross_entropy_against_hand_values():
    targets = np.array([[0, 0.25, 0.75, 0, 0], [1, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0]], np.float32)
    probs = np.array([[0.1, 0.2, 0.5, 0.1, 0.1], [0, 0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0, 0, 0]], np.float32)
    expected = [
        -(0.25 * math.log(0.2) + 0.75 * math.log(0.5)),  # 0.9222199
        -math.log(1e-8),  # p = 0 where m > 0: clipped, finite (18.42)
        math.log(2.0),  # m == p: the entropy of a fair coin
    ]
    loss = cross_entropy(targets, probs)
    assert loss.shape == (3,)
    np.testing.assert_allclose(to_numpy(loss), expected, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(cross_entropy(targets, probs, epsilon=1e-3))[1], -math.log(1e-3), rtol=1e-6)
    xla = compiled(cross_entropy)
    np.testing.assert_allclose(to_numpy(xla(targets, probs)), expected, rtol=1e-6)
    # the C51 loss on a projected target: zero gradient where p == m is not required, but finite values are
    m = project_one(P, 0.5, 0.5)
    assert np.isfinite(to_numpy(cross_entropy(m[None], m[None]))).all()


def test_cross_entropy_rejects_bad_arguments():
    with pytest.raises(ValueError, match="epsilon must be in"):
        cross_entropy([[1.0, 0.0]], [[0.5, 0.5]], epsilon=0.0)
    with pytest.raises(ValueError, match="same shape"):
        cross_entropy([[1.0, 0.0]], [[0.5, 0.25, 0.25]])
