import numpy as np
import pytest

from nnscratch.data import augment as A


@pytest.fixture
def grey_batch(rng):
    return rng.integers(0, 256, (8, 6, 5), dtype=np.uint8)


@pytest.fixture
def colour_batch(rng):
    return rng.integers(0, 256, (8, 6, 5, 3), dtype=np.uint8)


def test_flip_with_p_one_mirrors_every_image_and_p_zero_none(grey_batch, colour_batch):
    for batch in (grey_batch, colour_batch):
        np.testing.assert_array_equal(A.HorizontalFlip(p=1.0, rng=0)(batch), batch[:, :, ::-1])
        np.testing.assert_array_equal(A.HorizontalFlip(p=0.0, rng=0)(batch), batch)


def test_flip_flips_about_half_and_never_in_place(grey_batch):
    big = np.repeat(grey_batch, 50, axis=0)
    before = big.copy()
    out = A.HorizontalFlip(rng=1)(big)
    flipped = np.all(out == big[:, :, ::-1], axis=(1, 2)) & ~np.all(big == big[:, :, ::-1], axis=(1, 2))
    assert 0.35 < flipped.mean() < 0.65
    np.testing.assert_array_equal(big, before)


def test_the_same_seed_gives_the_same_batch(colour_batch):
    make = lambda seed: A.Compose([A.HorizontalFlip(rng=seed), A.RandomCrop(5, padding=2, rng=seed),  # noqa: E731
                                   A.RandomScale(rng=seed), A.ColorJitter(0.3, 0.3, 0.3, rng=seed)])
    np.testing.assert_array_equal(make(4)(colour_batch), make(4)(colour_batch))
    assert not np.array_equal(make(4)(colour_batch), make(5)(colour_batch))


def test_random_crop_returns_windows_of_the_padded_image():
    image = np.arange(9, dtype=np.uint8).reshape(1, 3, 3)
    padded = np.pad(image[0], 1)
    windows = {padded[r:r + 3, c:c + 3].tobytes() for r in range(3) for c in range(3)}
    out = A.RandomCrop(3, padding=1, rng=0)(np.repeat(image, 40, axis=0))
    assert out.shape == (40, 3, 3)
    seen = {o.tobytes() for o in out}
    assert seen <= windows and len(seen) > 4


def test_random_crop_without_padding_to_full_size_is_identity(colour_batch):
    np.testing.assert_array_equal(A.RandomCrop((6, 5), rng=0)(colour_batch), colour_batch)
    with pytest.raises(ValueError, match="a 8x8 crop does not fit images of 6x5"):
        A.RandomCrop(8)(colour_batch)


def test_random_scale_of_one_is_identity(grey_batch, colour_batch):
    for batch in (grey_batch, colour_batch):
        np.testing.assert_array_equal(A.RandomScale((1.0, 1.0), rng=0)(batch), batch)


def test_bilinear_zoom_reproduces_a_linear_ramp_exactly():
    # I(i, j) = j; zooming by s about the centre c gives c + (j - c) / s wherever it reads inside
    w = 9
    ramp = np.tile(np.arange(w, dtype=np.float32), (2, 7, 1))
    out = A.RandomScale((2.0, 2.0), rng=0)(ramp)
    c = (w - 1) / 2
    np.testing.assert_allclose(out[:, 2:5, :], np.broadcast_to(c + (np.arange(w) - c) / 2, (2, 3, w)), rtol=1e-6)


def test_zoom_out_fills_the_border_with_zero():
    ones = np.ones((1, 9, 9), np.float32)
    out = A.RandomScale((0.5, 0.5), rng=0)(ones)
    assert out[0, 0, 0] == 0 and out[0, 4, 4] == 1


def test_brightness_scales_each_image_by_one_factor(rng):
    images = rng.uniform(0.1, 1.0, (6, 4, 4)).astype(np.float32)
    out = A.ColorJitter(brightness=0.5, rng=0)(images)
    ratio = out / images
    np.testing.assert_allclose(ratio, ratio[:, :1, :1] * np.ones_like(ratio), rtol=1e-5)
    assert np.all((ratio[:, 0, 0] >= 0.5) & (ratio[:, 0, 0] <= 1.5))


def test_contrast_keeps_the_mean_and_saturation_keeps_the_grey(rng):
    images = rng.uniform(0, 1, (5, 4, 4, 3)).astype(np.float32)
    out = A.ColorJitter(contrast=0.5, rng=0)(images)
    np.testing.assert_allclose(A.grey(out).mean(axis=(1, 2)), A.grey(images).mean(axis=(1, 2)), rtol=1e-5)
    saturated = A.ColorJitter(saturation=0.9, rng=0)(images)
    np.testing.assert_allclose(A.grey(saturated), A.grey(images), rtol=1e-5, atol=1e-6)


def test_uint8_results_are_clipped_to_the_valid_range(colour_batch):
    out = A.ColorJitter(brightness=1.0, contrast=1.0, rng=0)(colour_batch)
    assert out.dtype == np.uint8 and out.max() <= 255 and out.min() >= 0


def test_bad_input_is_explained(grey_batch):
    with pytest.raises(ValueError, match=r"expects images \(N, H, W\) or \(N, H, W, C\); got shape \(8, 30\).*reshape"):
        A.HorizontalFlip()(grey_batch.reshape(8, 30))
    with pytest.raises(ValueError, match="saturation needs colour images"):
        A.ColorJitter(saturation=0.2)(grey_batch)
    with pytest.raises(ValueError, match="p must lie in"):
        A.HorizontalFlip(p=2)


def test_grey_uses_the_bt601_weights():
    pixel = np.array([[[[100.0, 50.0, 200.0]]]], np.float32)
    assert A.grey(pixel)[0, 0, 0] == pytest.approx(0.299 * 100 + 0.587 * 50 + 0.114 * 200, rel=1e-6)
