import math

import numpy as np
import pytest

from nnscratch import Tensor, gradcheck, nn
from nnscratch.nn import functional as F

from conftest import param


def log_softmax_reference(z):
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # naive but exact for small z


# ----- values ----------------------------------------------------------------------------------
def test_cross_entropy_equals_minus_log_softmax_of_the_target(rng):
    z = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    expected = -log_softmax_reference(z)[np.arange(5), y]
    assert F.cross_entropy(Tensor(z), y).item() == pytest.approx(expected.mean(), rel=1e-12)
    assert F.cross_entropy(Tensor(z), y, reduction="sum").item() == pytest.approx(expected.sum(), rel=1e-12)
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), y, reduction="none").data, expected, rtol=1e-12)


def test_cross_entropy_with_one_hot_rows_equals_class_indices(rng):
    z = Tensor(rng.standard_normal((5, 4)))
    y = np.array([0, 3, 1, 1, 2])
    assert F.cross_entropy(z, np.eye(4)[y]).item() == pytest.approx(F.cross_entropy(z, y).item(), rel=1e-12)


def test_cross_entropy_backward_is_softmax_minus_onehot_over_n(rng):
    z = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = np.array([2, 0, 3])
    F.cross_entropy(z, y).backward()
    p = np.exp(log_softmax_reference(z.data))
    np.testing.assert_allclose(z.grad, (p - np.eye(4)[y]) / 3, rtol=1e-12)


def test_hinge_loss_matches_the_lecture_example():
    # CS231n's cat/car/frog scores: losses 2.9, 0 and 12.9
    scores = Tensor(np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]))
    y = np.array([0, 1, 2])
    np.testing.assert_allclose(F.hinge_loss(scores, y, reduction="none").data, [2.9, 0.0, 12.9], rtol=1e-12)
    assert F.hinge_loss(scores, y).item() == pytest.approx(15.8 / 3)


def test_mse_and_l1_values():
    pred, target = Tensor(np.array([1.0, 2.0, 4.0])), np.array([1.5, 2.0, 1.0])
    assert F.mse_loss(pred, target).item() == pytest.approx((0.25 + 0 + 9) / 3)
    assert F.l1_loss(pred, target).item() == pytest.approx((0.5 + 0 + 3) / 3)
    assert nn.MSELoss(reduction="sum")(pred, target).item() == pytest.approx(9.25)


def test_bce_with_logits_matches_the_naive_formula(rng):
    x = rng.standard_normal((4, 3))
    t = rng.random((4, 3))
    s = 1 / (1 + np.exp(-x))
    expected = -(t * np.log(s) + (1 - t) * np.log(1 - s))
    assert F.binary_cross_entropy_with_logits(Tensor(x), t).item() == pytest.approx(expected.mean(), rel=1e-12)


def test_gaussian_nll_with_unit_variance_is_half_mse_plus_a_constant(rng):
    pred, target = Tensor(rng.standard_normal((6, 2))), rng.standard_normal((6, 2))
    half_mse = F.mse_loss(pred, target).item() / 2
    assert F.gaussian_nll_loss(pred, target).item() == pytest.approx(half_mse, rel=1e-12)
    full = nn.GaussianNLLLoss(full=True)(pred, target).item()
    assert full == pytest.approx(half_mse + 0.5 * math.log(2 * math.pi), rel=1e-12)


def test_gaussian_nll_with_a_predicted_variance(rng):
    pred, target = rng.standard_normal(5), rng.standard_normal(5)
    var = rng.random(5) + 0.5
    expected = 0.5 * (np.log(var) + (pred - target) ** 2 / var)
    got = F.gaussian_nll_loss(Tensor(pred), target, Tensor(var), reduction="none").data
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# ----- gradients -------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_every_loss_passes_gradient_check(rng, reduction):
    y = np.array([1, 0, 3, 3, 2])
    target = rng.standard_normal((5, 4))
    probs = rng.random((5, 4))
    probs /= probs.sum(axis=1, keepdims=True)
    r = reduction
    assert gradcheck(lambda z: F.cross_entropy(z, y, r), param(rng, 5, 4))
    assert gradcheck(lambda z: F.cross_entropy(z, probs, r), param(rng, 5, 4))
    assert gradcheck(lambda z, q: F.cross_entropy(z, q, r), param(rng, 5, 4), Tensor(probs, requires_grad=True))
    assert gradcheck(lambda z: F.hinge_loss(z, y, reduction=r), param(rng, 5, 4))
    assert gradcheck(lambda z: F.mse_loss(z, target, r), param(rng, 5, 4))
    assert gradcheck(lambda z: F.l1_loss(z, target, r), param(rng, 5, 4, low=3.0))
    assert gradcheck(lambda z, t: F.binary_cross_entropy_with_logits(z, t, r),
                     param(rng, 5, 4), Tensor(rng.random((5, 4)), requires_grad=True))
    assert gradcheck(lambda z, v: F.gaussian_nll_loss(z, target, v, reduction=r),
                     param(rng, 5, 4), Tensor(rng.random((5, 1)) + 0.5, requires_grad=True))


def test_loss_modules_equal_their_functions(rng):
    z, y = Tensor(rng.standard_normal((4, 3))), np.array([0, 2, 1, 2])
    assert nn.CrossEntropyLoss()(z, y).item() == F.cross_entropy(z, y).item()
    assert nn.HingeLoss(margin=2.0)(z, y).item() == F.hinge_loss(z, y, margin=2.0).item()
    t = rng.random((4, 3))
    assert nn.BCEWithLogitsLoss()(z, t).item() == F.binary_cross_entropy_with_logits(z, t).item()
    assert nn.L1Loss()(z, t).item() == F.l1_loss(z, t).item()


# ----- label smoothing -------------------------------------------------------------------------
def test_label_smoothing_matches_the_hand_computed_mixture():
    # logits (0, ln 3) for class 1: p = (1/4, 3/4); eps 0.2 over 2 classes: q = (0.1, 0.9)
    z = Tensor(np.array([[0.0, math.log(3.0)]]), requires_grad=True)
    loss = F.cross_entropy(z, np.array([1]), label_smoothing=0.2)
    np.testing.assert_allclose(loss.item(), -(0.1 * math.log(0.25) + 0.9 * math.log(0.75)), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(z.grad, [[0.25 - 0.1, 0.75 - 0.9]], rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("eps", [0.1, 1.0])
def test_label_smoothing_passes_gradient_check(rng, reduction, eps):
    y = np.array([1, 0, 3, 3, 2])
    probs = rng.dirichlet(np.ones(4), 5)
    assert gradcheck(lambda z: F.cross_entropy(z, y, reduction, label_smoothing=eps), param(rng, 5, 4))
    assert gradcheck(lambda z, q: F.cross_entropy(z, q, reduction, label_smoothing=eps),
                     param(rng, 5, 4), Tensor(probs, requires_grad=True))


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-6), (np.float64, 1e-12)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
def test_label_smoothing_matches_pytorch(rng, dtype, rtol, reduction, soft):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((7, 5)).astype(dtype) * 3
    targets = rng.dirichlet(np.ones(5), 7).astype(dtype) if soft else rng.integers(0, 5, 7)
    z, t = Tensor(x, requires_grad=True), Tensor(targets, requires_grad=soft)
    ours = nn.CrossEntropyLoss(reduction, label_smoothing=0.3)(z, t)
    tz, tt = torch.tensor(x, requires_grad=True), torch.tensor(targets, requires_grad=soft)
    theirs = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.3)(tz, tt)
    upstream = rng.standard_normal(ours.shape).astype(dtype)
    ours.backward(upstream)
    theirs.backward(torch.from_numpy(upstream))
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(z.grad, tz.grad.numpy(), rtol=rtol, atol=rtol)
    if soft:
        np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=rtol, atol=rtol)


def test_no_label_smoothing_is_plain_cross_entropy(rng):
    z, y = Tensor(rng.standard_normal((6, 3))), rng.integers(0, 3, 6)
    assert nn.CrossEntropyLoss(label_smoothing=0.0)(z, y).item() == F.cross_entropy(z, y).item()
    assert "label_smoothing" not in repr(nn.CrossEntropyLoss())
    assert "label_smoothing=0.1" in repr(nn.CrossEntropyLoss(label_smoothing=0.1))


def test_the_gate_rule_a_learner_reads_names_the_smoothed_target():
    # it said "(p - onehot(target)) / N", which the gradient of a smoothed loss is not
    z = Tensor(np.zeros((2, 4)), requires_grad=True)
    loss = F.cross_entropy(z, np.array([0, 3]), label_smoothing=0.2)
    assert "(1 - ε)·onehot + ε/C" in loss._ctx.rule
    loss.backward()  # the rule's numbers: p = 1/4 each, q = 0.8 + 0.05 or 0.05, over N = 2
    np.testing.assert_allclose(z.grad[0], [(0.25 - 0.85) / 2, (0.25 - 0.05) / 2, (0.25 - 0.05) / 2, (0.25 - 0.05) / 2])


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "0.1x", None])
def test_label_smoothing_outside_0_1_is_refused_naming_the_value(bad):
    with pytest.raises(ValueError, match=r"label_smoothing=.* must be a number in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=bad)
    with pytest.raises(ValueError, match=r"label_smoothing=.* must be a number in \[0, 1\]"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), label_smoothing=bad)


@pytest.mark.parametrize("bad", ["0.1", b"0.1", True, np.bool_(True)])
def test_label_smoothing_given_as_text_or_a_bool_is_refused_not_converted(bad):
    # "0.1" became 0.1 and True became 1.0: a uniform target, a model that learns nothing
    with pytest.raises(ValueError, match=r"label_smoothing=.* must be a number in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=bad)
    with pytest.raises(ValueError, match=r"label_smoothing=.* must be a number in \[0, 1\]"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), label_smoothing=bad)


@pytest.mark.parametrize("good", [np.float32(0.25), np.int64(0), -0.0, 1e-300, np.array(0.25)])
def test_label_smoothing_takes_numpy_numbers_as_pytorch_takes_floats(good):
    torch = pytest.importorskip("torch")
    x, y = np.random.default_rng(3).standard_normal((4, 3)), np.array([0, 2, 1, 2])
    ours = F.cross_entropy(Tensor(x), y, label_smoothing=good).item()
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y), label_smoothing=float(good)).item()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("logits_dtype, targets_dtype", [(np.float32, np.float64), (np.float64, np.float32)])
def test_probability_targets_of_another_dtype_keep_their_gradient(rng, logits_dtype, targets_dtype):
    # a float64 target Tensor with requires_grad under float32 logits was copied out of the graph: grad None
    x, probs = rng.standard_normal((3, 4)), rng.dirichlet(np.ones(4), 3)
    z, t = Tensor(x.astype(logits_dtype)), Tensor(probs.astype(targets_dtype), requires_grad=True)
    F.cross_entropy(z, t, "sum", label_smoothing=0.2).backward()
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    assert t.grad is not None and t.grad.dtype == targets_dtype
    np.testing.assert_allclose(t.grad, -(1 - 0.2) * logp, rtol=1e-5)  # d/dt of -sum(((1-e)t + e/C) log p)


# ----- bad input -------------------------------------------------------------------------------
def test_mismatched_batch_sizes_name_both_shapes():
    z = Tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"4 rows of scores \(shape \(4, 3\)\) but targets of shape \(5,\)"):
        F.cross_entropy(z, np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match=r"\(4, 3\) and target of shape \(2, 3\)"):
        F.mse_loss(z, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"reshape"):
        F.mse_loss(Tensor(np.zeros((4, 1))), np.zeros(4))


def test_class_index_out_of_range_names_the_index_and_class_count():
    z = Tensor(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="class index 12 is out of range for 10 classes.*0..9"):
        F.cross_entropy(z, np.array([1, 12, 3]))
    with pytest.raises(ValueError, match="class index -1 is out of range"):
        nn.HingeLoss()(z, np.array([1, -1, 3]))


def test_float_labels_and_unknown_reductions_are_explained():
    z = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"astype\(int\)"):
        F.cross_entropy(z, np.array([1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="'mean', 'sum', 'none'"):
        nn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(z, np.zeros((3, 4)), -1.0)
