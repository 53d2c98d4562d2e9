"""Issue 13 item 8: every stateful optimiser keeps its state per parameter, its own step count
included, and leaves a parameter with no gradient at a step alone, exactly as torch.optim does."""

import numpy as np
import pytest
import torch

from nnscratch.nn.module import Parameter
from nnscratch.optim import SGD, AdaGrad, Adam, AdamW, RMSprop

OPTIMISERS = {
    "sgd-momentum": (lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "sgd-nesterov-decay": (lambda p: SGD(p, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01),
                           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)),
    "adagrad": (lambda p: AdaGrad(p, lr=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1)),
    "rmsprop": (lambda p: RMSprop(p, lr=0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
    "adam": (lambda p: Adam(p, lr=0.1), lambda p: torch.optim.Adam(p, lr=0.1)),
    "adam-l2": (lambda p: Adam(p, lr=0.01, weight_decay=0.1), lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1)),
    "adamw": (lambda p: AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
}


def _run_both(make_ours, make_theirs, gradients, start):
    """Step both optimisers through `gradients` (per step: one array or None per parameter)."""
    ours = [Parameter(np.array(w, np.float64)) for w in start]
    theirs = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in start]
    opt_ours, opt_theirs = make_ours(ours), make_theirs(theirs)
    history = []
    for step in gradients:
        for p, q, g in zip(ours, theirs, step):
            p.grad = None if g is None else np.array(g, np.float64)
            q.grad = None if g is None else torch.tensor(g, dtype=torch.float64)
        opt_ours.step()
        opt_theirs.step()
        history.append([(p.data.copy(), q.detach().numpy().copy()) for p, q in zip(ours, theirs)])
    return history, opt_ours


def test_adam_first_step_of_a_late_parameter_is_the_full_learning_rate():
    # The numbers: a parameter whose first gradient arrives at step 2 moves by 0.100
    # (PyTorch), not 0.058 (one global step count's bias correction).
    gradients = [([1.0], None), ([1.0], [1.0]), ([1.0], [1.0]), ([0.5], [-1.0])]
    history, _ = _run_both(*OPTIMISERS["adam"], gradients, start=[[0.0], [0.0]])
    late_first_step = history[1][1][0] - history[0][1][0]
    np.testing.assert_allclose(late_first_step, [-0.100], rtol=1e-6)
    for step in history:
        for ours, theirs in step:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_a_gradient_skipped_in_the_middle_leaves_the_parameter_alone_as_torch(name):
    rng = np.random.default_rng(5)
    g = lambda: rng.standard_normal(3)  # noqa: E731
    # parameter 0: every step; parameter 1: arrives late, skips step 3; parameter 2: skips steps 2 and 4
    gradients = [(g(), None, g()), (g(), g(), None), (g(), None, g()), (g(), g(), None), (g(), g(), g())]
    history, optimizer = _run_both(*OPTIMISERS[name], gradients, start=[rng.standard_normal(3) for _ in range(3)])
    np.testing.assert_array_equal(history[2][1][0], history[1][1][0])  # no momentum drift while skipped
    for step in history:
        for ours, theirs in step:
            np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)
    assert [s.get("step", 0) for s in optimizer.state] == [5, 3, 3]


def test_per_parameter_steps_survive_state_dict():
    w, v = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = Adam([w, v], lr=0.1)
    w.grad = np.ones(2)
    opt.step()
    state = opt.state_dict()
    assert state["steps"] == [1, 0] and "step" not in state["state"][0]
    fresh = Adam([Parameter(np.ones(2)), Parameter(np.ones(2))], lr=0.1)
    fresh.load_state_dict(state)
    assert [s.get("step", 0) for s in fresh.state] == [1, 0]


def test_a_state_saved_with_one_global_step_count_loads_as_it_was_meant():
    # Before per-parameter counts every parameter with buffers had been stepped step_count times.
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(4) for _ in range(6)]
    w = Parameter(np.zeros(4))
    straight = Adam([w], lr=0.05)
    for g in grads:
        w.grad = g
        straight.step()
    u = Parameter(np.zeros(4))
    first = Adam([u], lr=0.05)
    for g in grads[:3]:
        u.grad = g
        first.step()
    old = first.state_dict()
    del old["steps"]  # the old format: {"step_count": 3, "state": [{exp_avg, exp_avg_sq}]}
    resumed = Adam([u], lr=0.05)
    resumed.load_state_dict(old)
    for g in grads[3:]:
        u.grad = g
        resumed.step()
    np.testing.assert_allclose(u.data, w.data, rtol=1e-14)
