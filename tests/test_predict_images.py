"""Images given to `nnscratch predict` (issue 13 item 10): every Pillow mode is read with its true
range and turned into the model's input; what was changed is said in one line; an input whose
range differs from the model's training range is warned about."""

import gzip
import io
from pathlib import Path

import numpy as np
import pytest

import nnscratch
from nnscratch import nn, optim
from nnscratch.cli import main
from nnscratch.data import preprocess
from nnscratch.data.images import InputSpec, input_spec, read_image, read_images
from nnscratch.functional.activations import softmax_array
from nnscratch.tensor import Tensor
from nnscratch.train import fit

Image = pytest.importorskip("PIL.Image")
FASHION = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
GREY_0_255 = InputSpec((28, 28), 0.0, 255.0, "test images")


def fashion_test_set(n=1500):
    """The first `n` real Fashion-MNIST test images (uint8) and labels, read straight from the IDX files."""
    if not (FASHION / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("real Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist")
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:n]
    with gzip.open(FASHION / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:n].astype(np.int64)
    return images, labels


@pytest.fixture(scope="module")
def boot_model(tmp_path_factory):
    """A tiny linear model trained on real Fashion-MNIST images, saved as nnscratch train saves one."""
    X, y = fashion_test_set()
    scaler = preprocess.Standardize(per="channel").fit(X)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10, rng=0))
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05), (scaler.transform(X), y), epochs=2,
        batch_size=64, seed=0, progress=False)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    nnscratch.save(model, path, preprocess=scaler,
                   meta={"dataset": "fashion-mnist", "classes": CLASSES, "sample_shape": [28, 28]})
    boot = X[int(np.flatnonzero(y == 9)[0])]
    return path, boot


def probabilities(model_path, batch):
    model = nnscratch.load(model_path)
    model.eval()
    return softmax_array(model(Tensor(model.preprocess.transform(batch))).data, axis=1)


def predict_lines(capsys, *argv):
    assert main(["predict", *map(str, argv)]) == 0
    captured = capsys.readouterr()
    return captured.out.splitlines(), captured.err


def after_path(line):
    return line.split(": ", 1)[1]


# ----- the example: a 16-bit PNG is not binarised -----------------------------------------
def test_a_16_bit_png_of_a_real_boot_predicts_as_its_npy(boot_model, tmp_path, capsys):
    model_path, boot = boot_model
    np.save(tmp_path / "boot.npy", boot)
    Image.fromarray(boot.astype(np.uint16) * 257).save(tmp_path / "boot16.png")
    assert Image.open(tmp_path / "boot16.png").mode == "I;16"
    lines, err = predict_lines(capsys, model_path, tmp_path / "boot.npy", tmp_path / "boot16.png")
    assert after_path(lines[0]) == after_path(lines[1])
    assert f"{tmp_path / 'boot16.png'}: range 0..65535 -> 0..255" in err
    assert "boot.npy" not in err  # nothing was changed in the .npy, and its range is right
    batch = read_images([tmp_path / "boot.npy", tmp_path / "boot16.png"], GREY_0_255, echo=lambda line: None)
    np.testing.assert_allclose(batch[1], boot, atol=1e-3)
    p = probabilities(model_path, batch)
    np.testing.assert_allclose(p[1], p[0], atol=1e-5)


def test_a_large_colour_16_bit_png_is_converted_resized_and_scaled_like_the_8_bit_one(boot_model, tmp_path, capsys):
    model_path, boot = boot_model
    big = np.asarray(Image.fromarray(boot).resize((56, 56), Image.Resampling.NEAREST))
    path16 = tmp_path / "big16.tiff"
    Image.fromarray(big.astype(np.uint16) * 257).save(path16)
    Image.fromarray(np.repeat(big[..., None], 3, axis=-1)).save(tmp_path / "big8.png")
    lines, err = predict_lines(capsys, model_path, path16, tmp_path / "big8.png")
    assert "range 0..65535 -> 0..255; resized 56x56 -> 28x28" in err
    assert "colour -> grey (BT.601 weights); resized 56x56 -> 28x28" in err
    batch = read_images([path16, tmp_path / "big8.png"], GREY_0_255, echo=lambda line: None)
    np.testing.assert_allclose(batch[0], batch[1], atol=0.05)
    np.testing.assert_allclose(batch[0], boot, atol=0.5)  # a 2x2 block shrunk back is the pixel again
    assert after_path(lines[0]) == after_path(lines[1])


# ----- every mode Pillow reads gives the same array ----------------------------------------------
def mode_files(folder, u):
    """{mode: file} of the same 8-bit grey picture `u` (background 0) in every mode."""
    transparent = u == 0
    files = {}

    def put(mode, image, name):
        assert image.mode == mode
        image.save(folder / name)
        files[mode] = folder / name

    put("L", Image.fromarray(u), "l.png")
    put("I;16", Image.fromarray(u.astype(np.uint16) * 257), "i16.png")
    put("I", Image.fromarray(u.astype(np.int32) * 257), "i32.tiff")
    put("F", Image.fromarray(u.astype(np.float32) / 255), "f.tiff")
    put("RGB", Image.fromarray(np.stack([u, u, u], axis=-1)), "rgb.png")
    rgba = np.stack([u, u, u, np.full_like(u, 255)], axis=-1)
    rgba[transparent] = (200, 30, 30, 0)  # red, but fully transparent: composited on black
    put("RGBA", Image.fromarray(rgba), "rgba.png")
    la = np.stack([u, np.where(transparent, 0, 255).astype(np.uint8)], axis=-1)
    la[transparent, 0] = 255
    put("LA", Image.fromarray(la), "la.png")
    palette = Image.fromarray(u).convert("P")
    put("P", palette, "p.png")
    return files


def test_every_pillow_mode_gives_the_same_sample_within_rounding(tmp_path):
    u = (np.add.outer(np.arange(28), np.arange(28)) * 4.7 % 256).astype(np.uint8)
    u[:4] = 0
    files = mode_files(tmp_path, u)
    assert set(files) == {"L", "I;16", "I", "F", "RGB", "RGBA", "LA", "P"}
    for mode, path in files.items():
        sample, notes = read_image(path, GREY_0_255)
        assert sample.shape == (28, 28) and sample.dtype == np.float32
        np.testing.assert_allclose(sample, u, atol=0.51, err_msg=f"mode {mode}")
    assert read_image(files["L"], GREY_0_255)[1] == []  # nothing to change: nothing said
    assert "transparent pixels composited on black" in "; ".join(read_image(files["RGBA"], GREY_0_255)[1])
    ones = u > 127
    Image.fromarray(ones).save(tmp_path / "one-bit.png")
    assert Image.open(tmp_path / "one-bit.png").mode == "1"
    sample, notes = read_image(tmp_path / "one-bit.png", GREY_0_255)
    np.testing.assert_array_equal(sample, ones * 255.0)
    assert notes == ["range 0..1 -> 0..255"]


@pytest.mark.parametrize("name", ["anim.gif", "pages.tiff"])
def test_an_animated_or_multi_page_file_says_which_frame_it_used(tmp_path, name):
    # the first frame was used silently: a learner predicting a GIF could not know which picture was read
    frames = [Image.fromarray(np.full((28, 28), level, np.uint8)) for level in (40, 120, 200)]
    frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:])
    sample, notes = read_image(tmp_path / name, GREY_0_255)
    np.testing.assert_allclose(sample, 40, atol=0.51)
    assert ("frame 1 of 3 used (an animated or multi-page file); save the frame you mean as its "
            "own image to predict another") in notes
    frames[0].save(tmp_path / "still.gif")
    assert not any("frame" in note for note in read_image(tmp_path / "still.gif", GREY_0_255)[1])


def test_transparency_is_composited_on_the_training_background_and_grey_feeds_a_colour_model(tmp_path):
    u = np.full((4, 6), 90, np.uint8)
    rgba = np.stack([u, u, u, np.full_like(u, 255)], axis=-1)
    rgba[0] = (10, 20, 30, 0)
    Image.fromarray(rgba).save(tmp_path / "t.png")
    white_colour_model = InputSpec((4, 6, 3), 0.0, 1.0, "test", background=1.0)
    sample, notes = read_image(tmp_path / "t.png", white_colour_model)
    np.testing.assert_allclose(sample[0], 1.0)
    np.testing.assert_allclose(sample[1:], 90 / 255, rtol=1e-6)
    assert notes == ["range 0..255 -> 0..1", "transparent pixels composited on white (the training images' background)"]
    Image.fromarray(u).save(tmp_path / "g.png")
    sample, notes = read_image(tmp_path / "g.png", white_colour_model)
    assert sample.shape == (4, 6, 3) and "grey -> RGB (copied to each channel)" in notes


# ----- the model's training range, and warnings when an input does not fit it --------------------
def test_a_float_npy_in_0_1_given_to_a_0_255_model_warns(boot_model, tmp_path, capsys):
    model_path, boot = boot_model
    np.save(tmp_path / "unit.npy", boot / np.float32(255))
    lines, err = predict_lines(capsys, model_path, tmp_path / "unit.npy")
    assert len(lines) == 1
    assert (f"{tmp_path / 'unit.npy'}: warning: its values lie within 0..1 but the model was trained on 0..255 "
            f"(fashion-mnist's 8-bit pixels): multiply by 255") in err


def test_an_npy_beyond_the_training_range_warns_and_one_inside_it_does_not(tmp_path):
    np.save(tmp_path / "hot.npy", np.linspace(0, 1000, 784).reshape(28, 28))
    sample, notes = read_image(tmp_path / "hot.npy", GREY_0_255)
    assert notes == ["warning: its values span 0..1000, outside the range the model was trained on 0..255 (test images)"]
    np.save(tmp_path / "fine.npy", np.linspace(0, 255, 784).reshape(28, 28))
    assert read_image(tmp_path / "fine.npy", GREY_0_255)[1] == []


def test_the_training_range_and_background_come_from_the_model_file():
    light_border = np.full((8, 8), 250.0)
    light_border[2:6, 2:6] = 20
    X = np.stack([light_border, light_border + 5])
    standardize = preprocess.Standardize(per="feature").fit(X)
    spec = input_spec({"dataset": "fashion-mnist", "sample_shape": [8, 8]}, standardize)
    assert (spec.low, spec.high, spec.background) == (0.0, 255.0, 1.0)
    scale = preprocess.Pipeline([preprocess.Scale()]).fit(np.array([[-1.0, 3.0], [0.0, 2.0]]))
    spec = input_spec({}, scale)
    assert (spec.sample_shape, spec.low, spec.high, spec.background) == ((2,), -1.0, 3.0, 0.0)
    assert "Scale" in spec.range_source
    assert input_spec({"sample_shape": [3, 3], "input_range": [0, 1]}).high == 1.0
    with pytest.raises(ValueError, match="does not record the shape of one sample"):
        input_spec({})


def test_files_that_are_not_images_say_so(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match=r"notes.png is not an image Pillow can read \(PNG, JPEG, TIFF, ...\)"):
        read_image(tmp_path / "notes.png", GREY_0_255)
    with pytest.raises(FileNotFoundError, match="no image at .*gone.png: check the path"):
        read_image(tmp_path / "gone.png", GREY_0_255)
    (tmp_path / "liar.npy").write_bytes(npy_bytes_claiming((10**12,)))
    with pytest.raises(ValueError, match="liar.npy is not a .npy array of numbers"):
        read_image(tmp_path / "liar.npy", GREY_0_255)
    np.save(tmp_path / "wide.npy", np.zeros((28, 30)))
    with pytest.raises(ValueError, match=r"shape \(28, 30\); the model takes one sample of shape \(28, 28\)"):
        read_image(tmp_path / "wide.npy", GREY_0_255)
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match=r"samples of shape \(40,\), not images"):
        read_image(tmp_path / "small.png", InputSpec((40,), 0.0, 1.0, "signals"))


def npy_bytes_claiming(shape):
    """A .npy header declaring `shape` of float64, followed by only 16 bytes of data."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return out.getvalue() + bytes(16)


@pytest.mark.parametrize("values, message", [
    (np.ones((28, 28), np.complex64), "holds complex64 values; the model takes real numbers"),
    (np.ones((28, 28), bool), "holds bool values; the model takes real numbers"),
    (np.full((28, 28), np.nan, np.float32), "holds NaN or infinite values, so no prediction would mean anything"),
    (np.where(np.eye(28) > 0, np.inf, 3.0), "holds NaN or infinite values"),
])
def test_an_npy_that_cannot_be_classified_is_refused_not_predicted(tmp_path, values, message):
    np.save(tmp_path / "odd.npy", values)
    with pytest.raises(ValueError, match=message):
        read_image(tmp_path / "odd.npy", GREY_0_255)
