"""The benchmark's own logic: contenders compute the same training step, load is read right,
disturbed rounds are discarded, and the statistics are the usual ones."""

import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))

import ab  # noqa: E402
import contenders  # noqa: E402
import quiet  # noqa: E402
import run  # noqa: E402

SMALL = (20, 16, 8, 3)


def small_problem(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, SMALL[0])).astype(np.float32), rng.integers(0, SMALL[-1], n)


def numpy_reference_after(steps, X, y, batch):
    params = contenders.init_weights(SMALL)
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    for i in range(steps):
        contenders.numpy_step(params, velocity, X[i * batch:(i + 1) * batch].copy(), y[i * batch:(i + 1) * batch])
    return params


def test_jax_jit_step_gives_the_numpy_reference_weights_after_three_steps():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    X, y = small_problem()
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in contenders.init_weights(SMALL)]
    velocity = jax.tree.map(jnp.zeros_like, params)
    step = contenders.jax_train_step(4)
    for i in range(3):
        params, velocity, _ = step(params, velocity, jnp.asarray(X), jnp.asarray(y.astype(np.int32)), i)
    for (w, b), (w_ref, b_ref) in zip(params, numpy_reference_after(3, X, y, 4)):
        np.testing.assert_allclose(np.asarray(w), w_ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(b), b_ref, rtol=1e-5, atol=1e-6)


def test_jax_loss_matches_torch_cross_entropy_on_other_weights():
    pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    X, y = small_problem(n=9, seed=3)
    params = contenders.init_weights(SMALL, seed=5)
    with torch.no_grad():
        expected = torch.nn.functional.cross_entropy(contenders.torch_mlp(params)(torch.from_numpy(X)),
                                                     torch.from_numpy(y)).item()
    assert float(contenders.jax_loss(params, X, y.astype(np.int32))) == pytest.approx(expected, rel=1e-5)


def test_jax_inference_gives_the_same_logits_as_nnscratch():
    pytest.importorskip("jax")
    X, _ = small_problem(n=7, seed=1)
    params = contenders.init_weights(SMALL, seed=2)
    np.testing.assert_allclose(np.asarray(contenders.jax_forward(params, X)()),
                               contenders.nnscratch_forward(params, X)(), rtol=1e-5, atol=1e-6)


def test_cpu_line_busy_time_excludes_idle_and_iowait_and_counts_steal():
    busy, total = quiet.parse_cpu_line("cpu  100 5 20 800 10 1 2 7 3 0")
    assert busy == pytest.approx((100 + 5 + 20 + 1 + 2 + 7) / quiet.CLOCK_TICKS)
    assert total == pytest.approx(945 / quiet.CLOCK_TICKS)  # guest (3) is inside user already


def test_cpu_line_of_one_core_is_refused():
    with pytest.raises(ValueError, match="aggregate cpu line"):
        quiet.parse_cpu_line("cpu0 1 2 3 4 5 6 7 8")


def test_summary_quartiles_match_numpy_percentiles():
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6]
    s = run.summary(values)
    assert (s["q1"], s["median"], s["q3"]) == pytest.approx(tuple(np.percentile(values, [25, 50, 75])))
    assert (s["min"], s["max"], s["n"]) == (1.0, 9.0, 6)


def fake_rounds(monkeypatch, busy_during, quiet_before):
    """interleaved() with measurements and waits replaced: `busy_during[(round, contender)]` other cores."""
    calls = iter(quiet_before)
    monkeypatch.setattr(run, "wait_until_quiet", lambda max_wait, extra_pids=(): (next(calls), 0.9, max_wait))
    counter = {"n": 0}

    def measure(contender, extra_pids=(), **kwargs):
        counter["n"] += 1
        number = (counter["n"] - 1) // 2 + 1
        return {"samples_per_s": 100.0 * number if contender == "nnscratch" else 50.0,
                "others_cores": busy_during.get((number, contender), 0.0)}

    monkeypatch.setattr(run, "measure", measure)
    return run.interleaved(["nnscratch", "jax"], len(quiet_before), max_wait=2, gap=0)


def test_a_round_with_other_load_during_a_measurement_is_discarded(monkeypatch):
    rounds = fake_rounds(monkeypatch, {(2, "jax"): 0.45}, [True, True, True])
    use, note = run.counted(rounds)
    assert [r["round"] for r in use] == [1, 3]
    assert "round 2 (others used up to 0.45 cores during jax)" in note
    assert run.pair_ratios(use, "nnscratch", "jax") == [2.0, 6.0]


def test_a_round_whose_quiet_wait_gave_up_is_discarded_and_all_disturbed_is_said(monkeypatch):
    rounds = fake_rounds(monkeypatch, {}, [False, True])
    assert [r["round"] for r in run.counted(rounds)[0]] == [2]
    everything = fake_rounds(monkeypatch, {}, [False, False])
    use, note = run.counted(everything)
    assert len(use) == 2 and note.startswith("EVERY ROUND DISTURBED")
    assert "others used 0.90 cores after waiting 2 s" in note


@pytest.mark.parametrize("text, expected", [
    ("two:", ("two", {})),
    ("one:NNSCRATCH_BLAS_THREADS=1", ("one", {"NNSCRATCH_BLAS_THREADS": "1"})),
    ("both:A=1,B=x=y", ("both", {"A": "1", "B": "x=y"})),
    ("jax:contender=jax", ("jax", {"contender": "jax"})),
])
def test_ab_variants_are_a_name_and_environment_settings(text, expected):
    assert ab.parse_variant(text) == expected


def test_training_worker_reports_cpu_seconds_beside_wall_seconds(capsys):
    run.main(["--worker", "numpy", "--n-train", "512"])
    import json

    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["cpu_seconds"] > 0 and result["seconds"] > 0
    assert result["samples_per_s"] == pytest.approx(512 / result["seconds"])


# ----- the CNN workload (issue 18 item 5) -------------------------------------------------------------
def cnn_rounds(nnscratch, torch, gemm, disturbed=()):
    """Rounds of the CNN contenders with the given images/s per round (None: skipped)."""
    rounds = []
    for i, speeds in enumerate(zip(nnscratch, torch, gemm), 1):
        results = {c: {"skipped": "torch is not installed"} if v is None else {"samples_per_s": v}
                   for c, v in zip(run.CNN_CONTENDERS, speeds)}
        rounds.append({"round": i, "results": results, "disturbed": "busy" if i in disturbed else None})
    return rounds


def test_cnn_table_gives_pair_ratios_over_quiet_rounds_and_judges_the_torch_target():
    verdicts = []
    report = run.cnn_table(cnn_rounds([100, 90, 300], [80, 100, 10], [400, 360, 900], disturbed={3}), verdicts)
    assert report["nnscratch_over_torch"]["median"] == pytest.approx((1.25 + 0.9) / 2)
    assert report["step_over_gemms"]["median"] == pytest.approx(4.0)
    assert report["nnscratch"]["n"] == 2  # the disturbed third round counts nowhere
    assert verdicts == [("CNN training >= 1.0x torch", pytest.approx(1.075), 1.0, True)]


def test_cnn_table_without_torch_reports_it_skipped_and_sets_no_target(capsys):
    verdicts = []
    report = run.cnn_table(cnn_rounds([100, 120], [None, None], [300, 360]), verdicts)
    assert verdicts == [] and "torch" not in report
    assert "torch      skipped: torch is not installed" in capsys.readouterr().out
    assert report["step_over_gemms"]["median"] == pytest.approx(3.0)


def test_workload_cnn_runs_only_the_cnn_rounds_and_prints_its_target(monkeypatch, capsys):
    asked = []

    def interleaved(contenders, rounds, max_wait, gap, **kwargs):
        asked.append((tuple(contenders), kwargs))
        return cnn_rounds([50] * rounds, [100] * rounds, [200] * rounds)

    monkeypatch.setattr(run, "interleaved", interleaved)
    monkeypatch.setattr(run, "machine", lambda: "test machine")
    run.main(["--workload", "cnn", "--rounds", "2", "--cnn-steps", "3"])
    assert asked == [(run.CNN_CONTENDERS, {"what": "cnn", "steps": 3})]
    out = capsys.readouterr().out
    assert "NOT met  CNN training >= 1.0x torch: 0.50" in out and "MLP" not in out


def test_the_cnn_worker_names_a_contender_that_cannot_run(monkeypatch):
    import cnn

    monkeypatch.setattr(cnn, "torch_step", lambda: None)
    with pytest.raises(SystemExit, match="torch is not installed"):
        run.cnn_worker("torch", 1)


def test_the_cnn_worker_times_the_steps_it_is_given(monkeypatch):
    import cnn

    calls = []
    monkeypatch.setattr(cnn, "gemm_step", lambda: lambda: calls.append(1))
    result = run.cnn_worker("gemm", 4)
    assert len(calls) == 5  # a warm-up step, then the 4 timed ones
    assert result["samples_per_s"] == pytest.approx(cnn.BATCH / result["seconds"])
    assert 0 <= result["cpu_seconds"]
