"""The CNN layers' two-thread split (nnscratch.parallel): the blocks, when it runs inline, and that every
layer computes the same values and gradients with the split on (two threads, every array large
enough) as off (one thread).

Bitwise for the element-wise layers (ReLU, max pooling): each number goes through the same NumPy
call either way. To float32 rounding for batch norm's sums and a convolution's products: NumPy
orders a sum's partial sums by the shape and strides of the block it is given, and a block of
columns is its own BLAS call, whose kernels OpenBLAS picks by the matrix sizes.
"""

import threading

import numpy as np
import pytest

from nnscratch import Tensor, blas, nn, parallel

needs_thread_control = pytest.mark.skipif(blas.get_num_threads() is None, reason="NumPy's OpenBLAS not found")


@pytest.fixture
def split_everything(monkeypatch):
    """Two threads, and arrays of any size split (the tests' arrays are far below MIN_ELEMENTS)."""
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    with blas.threadpool_limits(2):
        yield


def library_threads():
    """The count the library itself runs now (blas.get_num_threads() reports a lent count instead)."""
    return blas._threads.get()


def _calls(n_items, size):
    """(block, thread id, BLAS threads inside) for each call for_blocks makes."""
    calls, lock = [], threading.Lock()

    def record(block):
        with lock:
            calls.append((block, threading.get_ident(), library_threads()))
    parallel.for_blocks(record, n_items, size)
    return sorted(calls, key=lambda call: call[0].start)


def test_blocks_cover_the_items_in_near_equal_consecutive_slices():
    assert parallel.blocks(5, 2) == [slice(0, 3), slice(3, 5)]
    assert parallel.blocks(64, 2) == [slice(0, 32), slice(32, 64)]
    assert parallel.blocks(7, 3) == [slice(0, 3), slice(3, 5), slice(5, 7)]
    assert parallel.blocks(2, 4) == [slice(0, 1), slice(1, 2)]  # never an empty block
    assert parallel.blocks(1, 1) == [slice(0, 1)]


@needs_thread_control
def test_for_blocks_runs_inline_as_one_block_at_one_thread():
    with blas.threadpool_limits(1):
        calls = _calls(9, 10**8)
    assert calls == [(slice(0, 9), threading.get_ident(), 1)]


@needs_thread_control
def test_for_blocks_runs_small_arrays_inline_even_with_two_threads():
    with blas.threadpool_limits(2):
        calls = _calls(9, parallel.MIN_ELEMENTS - 1)
        assert library_threads() == 2
    assert calls == [(slice(0, 9), threading.get_ident(), 2)]  # inline: the library keeps its threads


@needs_thread_control
def test_for_blocks_splits_over_two_threads_with_one_blas_thread_inside(split_everything):
    calls = _calls(5, 10)
    assert [block for block, _, _ in calls] == [slice(0, 3), slice(3, 5)]
    assert calls[0][1] == threading.get_ident() != calls[1][1]  # the caller runs the first block
    assert [inside for _, _, inside in calls] == [1, 1]
    assert blas.get_num_threads() == 2 and library_threads() == 1  # lent to the split's threads, until...


@needs_thread_control
def test_the_library_gets_its_threads_back_at_the_first_blas_call_after_the_loan(split_everything):
    parallel.for_blocks(lambda block: None, 2, 10)
    assert library_threads() == 1
    x, y = np.ones(blas.MIN_SIZE * 2, np.float32), np.zeros(blas.MIN_SIZE * 2, np.float32)
    blas.axpy(1.0, x, y)  # an optimiser's update within the loan: still one thread
    assert library_threads() == 1
    blas._threads.lent_until = 1e-9  # LEND_SECONDS have passed
    blas.axpy(1.0, x, y)
    assert library_threads() == 2 and blas.get_num_threads() == 2 and y[0] == 2


@needs_thread_control
def test_set_num_threads_ends_a_loan_at_once(split_everything):
    parallel.for_blocks(lambda block: None, 2, 10)
    blas.set_num_threads(2)
    assert library_threads() == 2 and not blas._threads.lent_until


@needs_thread_control
def test_for_blocks_raises_a_blocks_error_after_every_block_finished(split_everything):
    finished = []

    def fail_in_second_block(block):
        if block.start > 0:
            raise ZeroDivisionError("second block")
        finished.append(block)
    with pytest.raises(ZeroDivisionError, match="second block"):
        parallel.for_blocks(fail_in_second_block, 4, 10)
    assert finished == [slice(0, 2)]


@needs_thread_control
def test_for_channel_blocks_splits_feature_maps_by_channel_and_matrices_not_at_all(split_everything):
    seen = []
    parallel.for_channel_blocks(seen.append, np.zeros((2, 5, 3, 3)))
    assert sorted(seen, key=lambda b: b[1].start) == [np.s_[:, 0:3], np.s_[:, 3:5]]
    seen.clear()
    parallel.for_channel_blocks(seen.append, np.zeros((4, 5)))  # an MLP's (N, D): OpenBLAS's threads' turn
    assert seen == [np.s_[...]]


def _values_and_grads(make_layer, x, grad):
    layer = make_layer()
    X = Tensor(x, requires_grad=True)
    out = layer(X)
    (out * Tensor(grad)).sum().backward()
    return [out.numpy(), X.grad] + [p.grad for p in layer.parameters()]


def _with_and_without_split(make_layer, shape, monkeypatch, dtype=np.float32):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(dtype)
    grad = rng.standard_normal(make_layer()(x).shape).astype(dtype)
    with blas.threadpool_limits(1):
        off = _values_and_grads(make_layer, x, grad)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    splits, executor = [], parallel._executor
    monkeypatch.setattr(parallel, "_executor", lambda workers: splits.append(workers) or executor(workers))
    with blas.threadpool_limits(2):
        on = _values_and_grads(make_layer, x, grad)
    assert splits and set(splits) == {1}  # the layer really ran split: one worker beside the caller
    return on, off


ELEMENT_WISE = {  # odd channel counts: blocks of unequal size; batch of 1
    "relu-3-channels": (lambda: nn.ReLU(), (2, 3, 4, 5)),
    "maxpool2d-5-channels": (lambda: nn.MaxPool2d(2), (3, 5, 6, 6)),
    "maxpool2d-overlapping-batch-of-1": (lambda: nn.MaxPool2d(3, stride=1), (1, 3, 6, 6)),
    "maxpool1d": (lambda: nn.MaxPool1d(2), (2, 5, 9)),
}


@needs_thread_control
@pytest.mark.parametrize("name", ELEMENT_WISE)
def test_element_wise_layers_are_bitwise_identical_with_the_split_on_and_off(name, monkeypatch):
    make_layer, shape = ELEMENT_WISE[name]
    on, off = _with_and_without_split(make_layer, shape, monkeypatch)
    for a, b in zip(on, off):
        np.testing.assert_array_equal(a, b)


WITH_SUMS = {
    "batchnorm2d-5-channels": (lambda: nn.BatchNorm2d(5), (4, 5, 6, 7)),
    "batchnorm2d-batch-of-1": (lambda: nn.BatchNorm2d(3), (1, 3, 5, 5)),
    "batchnorm1d-signals": (lambda: nn.BatchNorm1d(5), (3, 5, 11)),
    "batchnorm2d-eval": (lambda: nn.BatchNorm2d(3).eval(), (2, 3, 4, 4)),
    "conv2d-3-in-5-out": (lambda: nn.Conv2d(3, 5, 3, padding=1, rng=0), (4, 3, 9, 7)),
    "conv2d-5-in-strided-batch-of-1": (lambda: nn.Conv2d(5, 7, (3, 2), stride=2, padding=1, rng=1), (1, 5, 9, 8)),
    "conv2d-1-in": (lambda: nn.Conv2d(1, 3, 3, padding=1, bias=False, rng=2), (2, 1, 8, 8)),
    "conv1d": (lambda: nn.Conv1d(3, 5, 5, padding=2, rng=3), (2, 3, 40)),
}


@needs_thread_control
@pytest.mark.parametrize("name", list(WITH_SUMS))
def test_layers_with_sums_agree_to_rounding_with_the_split_on_and_off(name, monkeypatch):
    make_layer, shape = WITH_SUMS[name]
    on, off = _with_and_without_split(make_layer, shape, monkeypatch)
    for a, b in zip(on, off):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())
    on64, off64 = _with_and_without_split(lambda: make_layer().double(), shape, monkeypatch, np.float64)
    for a, b in zip(on64, off64):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())


@needs_thread_control
def test_a_cnn_training_step_matches_with_the_split_on_and_off(monkeypatch):
    """The benchmark's block (conv -> batch norm -> ReLU -> max-pool, twice) end to end, parameters' gradients too."""
    def make_model():
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False, rng=0), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Conv2d(4, 5, 3, padding=1, bias=False, rng=1), nn.BatchNorm2d(5),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    on, off = _with_and_without_split(make_model, (3, 1, 8, 8), monkeypatch)
    for a, b in zip(on, off):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * np.abs(b).max())


@needs_thread_control
def test_a_split_started_while_another_threads_split_runs_goes_inline(split_everything, monkeypatch):
    monkeypatch.setattr(parallel, "num_threads", lambda: 2)  # as if that thread read the count before ours changed it
    inner = []

    def outer_block(block):
        if block.start == 0:  # the caller's block: another thread asks for a split meanwhile
            other = threading.Thread(target=lambda: inner.extend(_calls(4, 10)))
            other.start()
            other.join()
    parallel.for_blocks(outer_block, 2, 10)
    assert [block for block, _, _ in inner] == [slice(0, 4)]  # one block, inline on that thread


@needs_thread_control
def test_a_count_someone_else_sets_during_a_loan_stands_after_it(split_everything):
    parallel.for_blocks(lambda block: None, 2, 10)
    blas._threads.put(3)  # as threadpoolctl would, behind nnscratch's back
    blas._threads.end_loan()
    assert library_threads() == 3 and blas.get_num_threads() == 3 and not blas._threads.auto


@needs_thread_control
def test_a_block_on_the_worker_thread_keeps_the_callers_errstate(split_everything):
    layer = nn.BatchNorm2d(4)
    layer.weight.data[3] = np.finfo(np.float32).max  # only the last channel, the worker's block, overflows: γ·x̂
    x = np.random.default_rng(5).standard_normal((2, 4, 3, 3)).astype(np.float32)
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError, match="overflow"):
            layer(x)
    with np.errstate(over="ignore"):
        assert np.isinf(layer(x).numpy()[:, 3]).any() and np.isfinite(layer(x).numpy()[:, :3]).all()
