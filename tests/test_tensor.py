import numpy as np
import pytest

import nnscratch as ns
from nnscratch import Tensor, gradcheck

from conftest import param


# ----- construction and dtypes ---------------------------------------------------------------
def test_python_numbers_and_lists_become_float32():
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(2.5).dtype == np.float32


def test_numpy_float_arrays_keep_their_dtype():
    assert Tensor(np.zeros(3, np.float64)).dtype == np.float64
    assert Tensor(np.zeros(3, np.float16)).dtype == np.float16
    assert Tensor(np.zeros(3), dtype=np.float32).dtype == np.float32


def test_data_is_a_plain_assignable_ndarray():
    t = Tensor([1.0, 2.0])
    assert type(t.data) is np.ndarray
    t.data = np.array([5.0, 6.0], np.float32)
    np.testing.assert_array_equal(t.numpy(), [5.0, 6.0])
    assert t.shape == (2,) and t.dtype == np.float32


def test_python_scalar_takes_the_tensors_dtype():
    x64 = Tensor(np.array([1.0]), requires_grad=True)
    y = x64 * 1.0001
    assert y.dtype == np.float64
    assert y.item() == 1.0001  # exact in float64, not rounded through float32
    x32 = Tensor([1.0, 2.0])
    for z in (x32 * 2.0, 2.0 * x32, x32 + 1, 1 - x32, x32 / 3.0, 3.0 / x32, x32**2):
        assert z.dtype == np.float32


def test_item_detach_zero_grad():
    x = Tensor([3.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad[0] == 6.0
    d = x.detach()
    assert not d.requires_grad and d.data is x.data
    x.zero_grad()
    assert x.grad is None
    with pytest.raises(ValueError, match="one element"):
        Tensor([1.0, 2.0]).item()


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(ValueError, match="floating-point"):
        Tensor(np.array([1, 2]), requires_grad=True)


# ----- gradients of every op --------------------------------------------------------------------
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": ns.maximum,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1))])
def test_binary_ops_pass_gradcheck_with_broadcasting(rng, name, shapes):
    a, b = param(rng, *shapes[0], low=0.5), param(rng, *shapes[1], low=0.5)
    assert gradcheck(BINARY[name], a, b)


def test_reversed_operands_with_numbers_and_arrays(rng):
    a = param(rng, 3, 2, low=0.5)
    const = rng.standard_normal((3, 2))
    assert gradcheck(lambda a: 2.0 - a, a)
    assert gradcheck(lambda a: 3.0 / a, a)
    assert gradcheck(lambda a: const * a + const, a)
    assert gradcheck(lambda a: -a, a)


UNARY = {
    "exp": lambda a: a.exp(),
    "log": lambda a: a.abs().log(),
    "sqrt": lambda a: a.abs().sqrt(),
    "abs": lambda a: a.abs(),
    "pow2": lambda a: a**2,
    "pow-1.5": lambda a: a.abs() ** -1.5,
    "pow3": lambda a: a**3,
    "reshape": lambda a: a.reshape(4, 3) * a.reshape(4, 3),
    "transpose": lambda a: a.T @ a,
    "transpose-axes": lambda a: a.reshape(2, 2, 3).transpose(2, 0, 1) ** 2,
    "astype": lambda a: a.astype(np.float32).astype(np.float64) * 2,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_pass_gradcheck(rng, name):
    a = param(rng, 3, 4, low=0.3)
    # a round trip through float32 is linear but rounds to 7 digits: difference it with a wide step
    eps = 1e-2 if name == "astype" else 1e-6
    assert gradcheck(UNARY[name], a, eps=eps)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_pass_gradcheck(rng, reduce, axis, keepdims):
    a = param(rng, 2, 3, 4)
    assert gradcheck(lambda a: getattr(a, reduce)(axis=axis, keepdims=keepdims), a)


def test_sum_backward_copies_the_gradient_to_every_element():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    a.sum(axis=1).backward(np.array([2.0, 5.0]))
    np.testing.assert_array_equal(a.grad, [[2, 2, 2], [5, 5, 5]])


def test_max_routes_the_gradient_to_the_winner_only():
    a = Tensor(np.array([[1.0, 7.0, 3.0], [9.0, 2.0, 4.0]]), requires_grad=True)
    a.max(axis=1).sum().backward()
    np.testing.assert_array_equal(a.grad, [[0, 1, 0], [1, 0, 0]])


def test_max_ties_share_the_gradient():
    a = Tensor(np.array([2.0, 5.0, 5.0]), requires_grad=True)
    a.max().backward()
    np.testing.assert_array_equal(a.grad, [0, 0.5, 0.5])


def test_maximum_routes_to_the_larger_input():
    a = Tensor(np.array([1.0, 5.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 2.0]), requires_grad=True)
    ns.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0, 1])
    np.testing.assert_array_equal(b.grad, [1, 0])


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (2, 4, 5))])
def test_matmul_passes_gradcheck(rng, shapes):
    a, b = param(rng, *shapes[0]), param(rng, *shapes[1])
    assert gradcheck(lambda a, b: a @ b, a, b)


def test_matmul_with_a_numpy_operand_on_either_side(rng):
    w = param(rng, 4, 2)
    x = rng.standard_normal((3, 4))
    assert gradcheck(lambda w: x @ w, w)
    assert gradcheck(lambda w: w.T @ x.T, w)


@pytest.mark.parametrize("index", [
    1, -1, slice(1, 3), (slice(None), 2), (Ellipsis, 0), (None, 1),
    np.array([0, 2, 2, 0]), (np.array([0, 1, 1]), np.array([3, 3, 3])), np.array([True, False, True]),
])
def test_getitem_passes_gradcheck(rng, index):
    a = param(rng, 3, 4)
    assert gradcheck(lambda a: a[index] * 1.5, a)


def test_getitem_scatters_repeats_by_adding():
    a = Tensor(np.zeros(4), requires_grad=True)
    a[np.array([1, 1, 3, 1])].sum().backward()
    np.testing.assert_array_equal(a.grad, [0, 3, 0, 1])


def test_getitem_accepts_a_tensor_index():
    a = Tensor(np.arange(5.0), requires_grad=True)
    picked = a[Tensor(np.array([4, 0]))]
    np.testing.assert_array_equal(picked.data, [4, 0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack_pass_gradcheck(rng, axis):
    a, b, c = param(rng, 2, 3), param(rng, 2, 3), param(rng, 2, 3)
    assert gradcheck(lambda a, b, c: ns.concatenate([a, b, c], axis=axis) ** 2, a, b, c)
    assert gradcheck(lambda a, b, c: ns.stack([a, b, c], axis=axis) ** 2, a, b, c)


def test_concatenate_uneven_pieces(rng):
    a, b = param(rng, 2, 3), param(rng, 5, 3)
    out = ns.concatenate([a, b])
    assert out.shape == (7, 3)
    assert gradcheck(lambda a, b: ns.concatenate([a, b]) ** 2, a, b)


def test_where_sends_the_gradient_to_the_chosen_input(rng):
    a, b = param(rng, 3, 4), param(rng, 3, 4)
    cond = rng.random((3, 4)) > 0.5
    assert gradcheck(lambda a, b: ns.where(cond, a, b) ** 2, a, b)
    a.grad = b.grad = None
    ns.where(cond, a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, cond.astype(float))
    np.testing.assert_array_equal(b.grad, (~cond).astype(float))


def test_where_broadcasts_a_number_keeping_dtype():
    x = Tensor([-1.0, 2.0], requires_grad=True)
    y = ns.where(x > 0, x, 0.0)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, [0, 2])


# ----- the engine ------------------------------------------------------------------------------
def test_a_node_used_twice_gets_the_sum_of_both_gradients(rng):
    a = param(rng, 3)
    assert gradcheck(lambda a: a * a + a, a)
    x = Tensor(np.array([2.0, -3.0]), requires_grad=True)
    y = x * x  # both operands are x: d(x*x)/dx = x + x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, -6.0])


def test_diamond_graph_sums_over_paths():
    x = Tensor(np.array(3.0), requires_grad=True)
    h = x * 2.0
    y = h * h + h.exp().log()  # y = 4x² + 2x, dy/dx = 8x + 2
    y.backward()
    assert x.grad == pytest.approx(26.0)


def test_gradients_accumulate_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3 + 2, 3 + 4])


def test_leaf_gradients_never_share_memory():
    a = Tensor(np.zeros(3), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    c = Tensor(np.zeros((2, 3)), requires_grad=True)
    seed = np.array([1.0, 2.0, 3.0])
    (a + b + c[0]).backward(seed)
    a.grad += 100  # a user editing one gradient must not change another, nor their seed
    np.testing.assert_array_equal(b.grad, seed)
    np.testing.assert_array_equal(c.grad[0], seed)
    np.testing.assert_array_equal(seed, [1.0, 2.0, 3.0])


def test_broadcast_gradient_is_summed_to_the_input_shape():
    b = Tensor(np.zeros((1, 3)), requires_grad=True)
    x = Tensor(np.ones((4, 3)))
    (x + b).sum().backward()
    assert b.grad.shape == (1, 3)
    np.testing.assert_array_equal(b.grad, [[4, 4, 4]])


def test_a_chain_of_20000_ops_backpropagates_without_recursion():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**20_000, rel=1e-9)


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with ns.no_grad():
        y = x * 2
        assert not ns.is_grad_enabled()
    assert ns.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"scalar.*\(2,\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"shape \(3,\) for a tensor of shape \(2,\)"):
        (x * 2).backward(np.ones(3))


def test_inputs_that_do_not_require_grad_get_none():
    x = Tensor([1.0, 2.0])
    w = Tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, [1, 2])


# ----- bad input -----------------------------------------------------------------------------
def test_matmul_of_incompatible_shapes_names_both_shapes():
    a, b = Tensor(np.ones((3, 4))), Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"\(3, 4\) @ \(5, 2\).*transpose"):
        a @ b


def test_reshape_to_a_wrong_size_names_both():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 elements\) into \(4, 2\)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)


def test_power_by_a_tensor_is_refused_with_the_alternative():
    with pytest.raises(TypeError, match="exp"):
        Tensor([1.0]) ** Tensor([2.0])


def test_backward_frees_the_graph_unless_asked_to_keep_it():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()  # kept once, so a second pass works and accumulates
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
