import numpy as np
import pytest

from nnscratch import nn
from nnscratch.nn import functional as F
from nnscratch.optim import SGD, AdaGrad, Adam, AdamW, RMSprop, schedule
from nnscratch.nn.module import Parameter


def two_steps(optimizer_factory, grads=(0.5, -1.0), dtype=np.float64):
    """Apply the given gradients, one per step, to a single weight starting at 1.0."""
    w = Parameter(np.array([1.0], dtype))
    opt = optimizer_factory([w])
    seen = []
    for g in grads:
        w.grad = np.array([g], dtype)
        opt.step()
        seen.append(w.data[0])
    return seen


# Each expectation is the published rule worked by hand for w0 = 1, g1 = 0.5, g2 = -1.
@pytest.mark.parametrize("factory, expected", [
    # w -= lr g:                     1 - 0.05 = 0.95;  0.95 + 0.1 = 1.05
    (lambda p: SGD(p, lr=0.1), [0.95, 1.05]),
    # v = 0.5, w = 0.95;  v = 0.45 - 1 = -0.55, w = 0.95 + 0.055 = 1.005
    (lambda p: SGD(p, lr=0.1, momentum=0.9), [0.95, 1.005]),
    # g + mu v = 0.95 -> 0.905;  -1 + 0.9 (-0.55) = -1.495 -> 0.905 + 0.1495 = 1.0545
    (lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True), [0.905, 1.0545]),
    # g = 0.5 + 0.1 = 0.6 -> 0.94;  g = -1 + 0.094 = -0.906 -> 1.0306
    (lambda p: SGD(p, lr=0.1, weight_decay=0.1), [0.94, 1.0306]),
    # cache 0.25 -> 1 - 0.1 (0.5 / 0.5) = 0.9;  cache 1.25 -> 0.9 + 0.1 / sqrt(1.25)
    (lambda p: AdaGrad(p, lr=0.1), [0.9, 0.9894427190999916]),
    # v = 0.0025 -> 0.9;  v = 0.012475 -> 0.9 + 0.01 / sqrt(0.012475)
    (lambda p: RMSprop(p, lr=0.01), [0.9, 0.9895322881911377]),
    # m̂ = 0.5, v̂ = 0.25 -> 0.9;  m̂ = -0.055/0.19, v̂ = 0.00124975/0.001999
    (lambda p: Adam(p, lr=0.1), [0.900000002, 0.9366103542405654]),
    # decay first: 0.99 then the Adam step; 0.89 * 0.99 then the same Adam step
    (lambda p: AdamW(p, lr=0.1, weight_decay=0.1), [0.890000002, 0.9177103542205653]),
], ids=["sgd", "momentum", "nesterov", "weight-decay", "adagrad", "rmsprop", "adam", "adamw"])
def test_each_optimiser_follows_its_published_rule(factory, expected):
    # rtol 1e-7: eps (1e-8 or smaller) moves these values by less; any slip in a rule by far more
    np.testing.assert_allclose(two_steps(factory), expected, rtol=1e-7)


@pytest.mark.parametrize("factory", [lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-4),
                                     lambda p: AdaGrad(p), lambda p: RMSprop(p), lambda p: Adam(p),
                                     lambda p: AdamW(p)])
def test_updates_are_in_place_and_stay_float32(factory):
    w = Parameter(np.ones(3, np.float32))
    data = w.data
    opt = factory([w])
    w.grad = np.full(3, 0.5, np.float64)  # even a float64 gradient must not promote the weights
    opt.step()
    assert w.data is data and w.data.dtype == np.float32
    assert all(v.dtype == np.float32 for k, v in opt.state[0].items() if k != "step")


def textbook(name, w, grads, lr, eps=1e-8, alpha=0.99, betas=(0.9, 0.999), decay=0.01):
    """Each rule as its paper writes it, in float64, one temporary per operation."""
    w, first, second = w.astype(np.float64), np.zeros(w.shape), np.zeros(w.shape)
    for t, g in enumerate(grads, start=1):
        if name == "adagrad":
            second += g * g
            w = w - lr * g / (np.sqrt(second) + eps)
        elif name == "rmsprop":
            second = alpha * second + (1 - alpha) * g * g
            w = w - lr * g / (np.sqrt(second) + eps)
        else:
            w = w * (1 - lr * decay) if name == "adamw" else w
            first = betas[0] * first + (1 - betas[0]) * g
            second = betas[1] * second + (1 - betas[1]) * g * g
            w = w - lr * (first / (1 - betas[0] ** t)) / (np.sqrt(second / (1 - betas[1] ** t)) + eps)
    return w


@pytest.mark.parametrize("name, make", [
    ("adagrad", lambda p: AdaGrad(p, lr=0.01, eps=1e-8)), ("rmsprop", lambda p: RMSprop(p, lr=0.01)),
    ("adam", lambda p: Adam(p, lr=0.01)), ("adamw", lambda p: AdamW(p, lr=0.01, weight_decay=0.01)),
])
def test_in_place_updates_at_blas_sizes_match_the_textbook_rule(name, make):
    # 200 x 100 = 20,000 weights: the sums run as BLAS calls where NumPy's BLAS is found
    rng = np.random.default_rng(7)
    start = rng.standard_normal((200, 100)).astype(np.float32)
    grads = [rng.standard_normal((200, 100)).astype(np.float32) for _ in range(4)]
    w = Parameter(start.copy())
    opt = make([w])
    for g in grads:
        w.grad = g.copy()
        opt.step()
        np.testing.assert_array_equal(w.grad, g)  # the gradient is read, never written
    np.testing.assert_allclose(w.data, textbook(name, start, grads, lr=0.01), rtol=1e-5, atol=1e-6)


def test_optimisers_reduce_a_real_loss():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 5)).astype(np.float32)
    y = (X @ rng.standard_normal(5) > 0).astype(np.int64)
    for make in (lambda p: SGD(p, 0.5, momentum=0.9), lambda p: AdaGrad(p, 0.5), lambda p: RMSprop(p, 0.01),
                 lambda p: Adam(p, 0.05), lambda p: AdamW(p, 0.05)):
        model = nn.Linear(5, 2, rng=0)
        opt = make(model.parameters())
        first = None
        for _ in range(30):
            loss = F.cross_entropy(model(X), y)
            first = first if first is not None else loss.item()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert loss.item() < 0.5 * first


def test_state_dict_round_trip_continues_identically():
    def run(steps, resume_at=None):
        w = Parameter(np.array([1.0, -2.0]))
        opt = Adam([w], lr=0.1)
        for i in range(steps):
            if i == resume_at:
                state = opt.state_dict()
                w2 = Parameter(w.data.copy())
                opt = Adam([w2], lr=123.0)
                opt.load_state_dict(state)
                w = w2
            w.grad = np.array([np.sin(i), np.cos(i)])
            opt.step()
        return w.data

    np.testing.assert_array_equal(run(6), run(6, resume_at=3))


def test_bad_settings_are_explained():
    p = [Parameter(np.ones(2))]
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got -0.1"):
        SGD(p, lr=-0.1)
    with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\)"):
        SGD(p, lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="nesterov=True needs a momentum"):
        SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="no parameters"):
        Adam([])
    with pytest.raises(ValueError, match="from a SGD, not a Adam"):
        Adam(p).load_state_dict(SGD(p, lr=0.1).state_dict())


# ----- schedules --------------------------------------------------------------------------------
def lrs(sched, steps, base=1.0):
    opt = SGD([Parameter(np.ones(1))], lr=base)
    sched.bind(opt)
    seen = []
    for _ in range(steps):
        seen.append(opt.lr)
        opt.step()
        sched.step()
    return seen


def test_schedules_give_their_hand_computed_rates():
    assert lrs(schedule.Constant(), 3, 0.5) == [0.5, 0.5, 0.5]
    np.testing.assert_allclose(lrs(schedule.StepDecay(2, 0.1), 5), [1, 1, 0.1, 0.1, 0.01])
    np.testing.assert_allclose(lrs(schedule.MultiStep([1, 3], 0.5), 5), [1, 0.5, 0.5, 0.25, 0.25])
    np.testing.assert_allclose(lrs(schedule.Exponential(0.5), 4), [1, 0.5, 0.25, 0.125])
    np.testing.assert_allclose(lrs(schedule.Cosine(4), 6), [1, 0.853553, 0.5, 0.146447, 0, 0], atol=1e-6)
    np.testing.assert_allclose(lrs(schedule.LinearWarmup(4), 6), [0.25, 0.5, 0.75, 1, 1, 1])
    np.testing.assert_allclose(lrs(schedule.LinearWarmup(2, after=schedule.StepDecay(3, 0.1)), 5),
                               [0.5, 1, 1, 0.1, 0.1])


def test_warmup_step_preset_is_the_lecture_recipe():
    sched = schedule.get("warmup-step", total_steps=100)
    rates = lrs(sched, 100, base=0.1)
    assert rates[0] == pytest.approx(0.1 / 5)  # 5 warm-up steps
    assert rates[4] == pytest.approx(0.1) and rates[49] == pytest.approx(0.1)
    assert rates[50] == pytest.approx(0.01) and rates[74] == pytest.approx(0.01)
    assert rates[75] == pytest.approx(0.001) and rates[99] == pytest.approx(0.001)
    assert all(a >= b for a, b in zip(rates[5:], rates[6:]))  # never rises after the warm-up


def test_schedule_state_round_trip():
    sched = schedule.get("warmup-step", total_steps=40)
    lrs(sched, 23, base=0.2)
    rebuilt = schedule.from_state_dict(sched.state_dict())
    assert rebuilt.step_count == 23 and [rebuilt.lr(s) for s in range(40)] == [sched.lr(s) for s in range(40)]
    with pytest.raises(ValueError, match="unknown schedule 'linear'.*warmup-step"):
        schedule.get("linear", 10)
