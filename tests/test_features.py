import colorsys

import numpy as np
import pytest

from nnscratch import NotFittedError
from nnscratch.data import preprocess
from nnscratch.features import (GREY_WEIGHTS, HOG, BagOfVisualWords, ColorHistogram, FeaturePipeline, Pixels,
                                color_histogram, concat, grey, hog, kmeans, rgb_to_hsv)

skimage_feature = pytest.importorskip("skimage.feature")


# ----- colour ------------------------------------------------------------------------------------
def test_rgb_to_hsv_agrees_with_colorsys_on_random_pixels(rng):
    pixels = rng.random((2000, 3))
    pixels[:50] = pixels[:50, :1]  # greys
    pixels[50:60] = 0  # black
    pixels[60:70, 1] = pixels[60:70, 0]  # ties between channels
    expected = np.array([colorsys.rgb_to_hsv(*p) for p in pixels])
    np.testing.assert_allclose(rgb_to_hsv(pixels), expected, atol=1e-12)


def test_color_histogram_counts_shares_of_pixels():
    image = np.array([[[255, 0, 0], [255, 0, 0]], [[0, 0, 255], [255, 255, 255]]], np.uint8)[None]
    rgb = color_histogram(image, bins=2, space="rgb")[0]
    # red channel: 3 of 4 pixels high; green: 1 high; blue: 2 high
    np.testing.assert_allclose(rgb, [0.25, 0.75, 0.75, 0.25, 0.5, 0.5])
    hsv = color_histogram(image, bins=3, space="hsv")[0]
    # hue: red 0 (x2), white 0 (grey), blue 2/3 -> bins [0, 1/3): 3, [2/3, 1]: 1
    np.testing.assert_allclose(hsv[:3], [0.75, 0, 0.25])
    for channel in np.split(color_histogram(np.random.default_rng(1).integers(0, 256, (5, 6, 7, 3)).astype(np.uint8)), 3, axis=1):
        np.testing.assert_allclose(channel.sum(axis=1), 1, rtol=1e-6)


def test_color_histogram_of_grey_images_is_refused():
    with pytest.raises(ValueError, match=r"needs colour images \(N, H, W, 3\); got shape \(2, 5, 5\)"):
        color_histogram(np.zeros((2, 5, 5), np.uint8))


def test_grey_uses_bt601():
    assert GREY_WEIGHTS == (0.299, 0.587, 0.114)
    np.testing.assert_allclose(grey(np.array([[10.0, 20.0, 30.0]])), [0.299 * 10 + 0.587 * 20 + 0.114 * 30], rtol=1e-6)


# ----- HoG against scikit-image ------------------------------------------------------------------
@pytest.mark.parametrize("shape, settings", [
    ((4, 28, 28), dict(cell=(8, 8))),
    ((4, 28, 28), dict(cell=(4, 4), block=(2, 2))),
    ((3, 32, 32, 3), dict(cell=(8, 8), block=(2, 2))),
    ((3, 30, 27), dict(cell=(5, 6), block=(2, 3), orientations=8)),
    ((2, 28, 28), dict(cell=(7, 7), block=(3, 3), block_norm="L1")),
    ((2, 28, 28), dict(cell=(4, 4), block=(1, 1), block_norm="L1-sqrt")),
    ((2, 24, 24, 3), dict(cell=(6, 6), block=(2, 2), block_norm="L2", orientations=12)),
], ids=str)
def test_hog_agrees_with_scikit_image(rng, shape, settings):
    images = rng.integers(0, 256, shape, dtype=np.uint8)
    images[0, 5:15, 8:20] = 255  # an edge, on top of the noise
    ours = hog(images, **settings)
    reference = np.stack([skimage_feature.hog(
        image, orientations=settings.get("orientations", 9), pixels_per_cell=settings["cell"],
        cells_per_block=settings.get("block", (2, 2)), block_norm=settings.get("block_norm", "L2-Hys"),
        channel_axis=-1 if image.ndim == 3 else None) for image in images])
    assert ours.shape == reference.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, atol=1e-4)


def test_hog_of_a_vertical_edge_votes_for_horizontal_gradients():
    image = np.zeros((1, 16, 16), np.uint8)
    image[:, :, 8:] = 200  # a vertical edge: the gradient points along the columns, angle 0
    cells = hog(image, cell=(16, 16), block=(1, 1), block_norm="L1")[0]
    assert cells.argmax() == 0 and cells[0] == pytest.approx(1.0, rel=1e-4)


def test_hog_bad_input_is_explained():
    with pytest.raises(ValueError, match="images of 10x10 pixels are too small for one block of 2x2 cells of 8x8"):
        hog(np.zeros((1, 10, 10)))
    with pytest.raises(ValueError, match="empty image set"):
        hog(np.zeros((0, 28, 28)))
    with pytest.raises(ValueError, match="block_norm='L3'"):
        hog(np.zeros((1, 28, 28)), block_norm="L3")


# ----- k-means and bags of visual words ------------------------------------------------------------
def blobs(rng, k=12, per=300, dims=8):
    return np.concatenate([rng.standard_normal((per, dims)) + rng.standard_normal(dims) * 4 for _ in range(k)])


@pytest.mark.parametrize("k", [3, 12, 30])
def test_kmeans_inertia_is_within_5_percent_of_scikit_learn(rng, k):
    cluster = pytest.importorskip("sklearn.cluster")
    X = blobs(rng)
    ours = kmeans(X, k, seed=0)
    theirs = cluster.KMeans(k, random_state=0, n_init=1).fit(X)
    assert ours.inertia <= 1.05 * theirs.inertia_
    np.testing.assert_allclose(ours.inertia, ((X - ours.centers[ours.labels]) ** 2).sum(), rtol=1e-9)


def test_minibatch_kmeans_stays_close_to_full_batch(rng):
    X = blobs(rng, per=2000)
    full = kmeans(X, 12, seed=0)
    mini = kmeans(X, 12, seed=0, batch_size=1024, max_iter=10)
    assert mini.inertia <= 1.05 * full.inertia


def test_bag_of_words_gives_normalised_histograms_and_is_reproducible(rng):
    images = rng.integers(0, 256, (40, 20, 20), dtype=np.uint8)
    bow = BagOfVisualWords(n_words=8, patch=8, stride=4, seed=3).fit(images)
    features = bow.transform(images)
    assert features.shape == (40, 8) and features.dtype == np.float32
    np.testing.assert_allclose(features.sum(axis=1), 1, rtol=1e-6)
    again = BagOfVisualWords(n_words=8, patch=8, stride=4, seed=3).fit(images)
    np.testing.assert_array_equal(again.codebook_, bow.codebook_)
    colour = rng.integers(0, 256, (10, 16, 16, 3), dtype=np.uint8)
    assert BagOfVisualWords(4, descriptor="hog").fit(colour).transform(colour).shape == (10, 4)


def test_extractors_before_fit_and_on_bad_images_are_explained(rng):
    with pytest.raises(NotFittedError, match="BagOfVisualWords.transform called before fit"):
        BagOfVisualWords(4).transform(np.zeros((2, 16, 16)))
    with pytest.raises(ValueError, match="smaller than one 8x8 patch"):
        BagOfVisualWords(4).fit(np.zeros((2, 6, 6)))
    with pytest.raises(ValueError, match=r"expects images \(N, H, W\)"):
        HOG().fit(np.zeros((2, 784)))


def test_pipeline_concatenates_and_saves_its_extractors(rng):
    images = rng.integers(0, 256, (30, 16, 16, 3), dtype=np.uint8)
    pipeline = concat(HOG(cell=(4, 4)), ColorHistogram(bins=4), BagOfVisualWords(6, seed=1), Pixels()).fit(images)
    features = pipeline.transform(images)
    parts = [HOG(cell=(4, 4)).fit(images).transform(images), color_histogram(images, 4),
             pipeline.extractors[2].transform(images), images.reshape(30, -1) / 255.0]
    np.testing.assert_allclose(features, np.concatenate(parts, axis=1), rtol=1e-6)
    rebuilt = preprocess.from_state_dict(pipeline.state_dict())
    assert isinstance(rebuilt, FeaturePipeline)
    np.testing.assert_array_equal(rebuilt.transform(images), features)
