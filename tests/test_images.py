"""User images -> MNIST-style inputs: every mode and array layout, inversion, centring, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnistlab import ConfigError, DataError
from mnistlab._images import SUPPORTED_SUFFIXES, load_image, load_images
from mnistlab.data import load_sample


@pytest.fixture(scope="module")
def mnist() -> np.ndarray:
    return load_sample("test").images[:20]


def draw_one(size=(200, 150), ink=0, paper=255, mode="L") -> Image.Image:
    """A "1" (a thick stroke with a flag) in dark ink on light paper, ``size`` = (width, height)."""
    img = Image.new(mode, size, paper)
    d = ImageDraw.Draw(img)
    w, h = size
    d.line([(w // 2, h // 6), (w // 2, h - h // 6)], fill=ink, width=max(2, w // 20))
    d.line([(w // 2, h // 6), (w // 2 - w // 10, h // 6 + h // 8)], fill=ink, width=max(2, w // 25))
    return img


def ink_stats(out: np.ndarray) -> tuple[tuple[float, float], int]:
    """Centre of mass (row, col) and the longer side of the ink's bounding box."""
    m = out.sum()
    com = ((out.sum(1) * np.arange(28)).sum() / m, (out.sum(0) * np.arange(28)).sum() / m)
    rows, cols = np.flatnonzero((out > 0.1).any(1)), np.flatnonzero((out > 0.1).any(0))
    return com, max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)


def check_mnist_like(out: np.ndarray) -> None:
    assert out.shape == (28, 28)
    assert out.dtype == np.float32
    assert out.min() >= 0
    assert out.max() <= 1
    (r, c), side = ink_stats(out)
    assert abs(r - 14) <= 1
    assert abs(c - 14) <= 1
    assert abs(side - 20) <= 1


def test_white_paper_rgb_is_inverted_cropped_scaled_and_centred(tmp_path):
    path = tmp_path / "one.png"
    draw_one(mode="RGB", ink=(0, 0, 0), paper=(255, 255, 255)).save(path)
    out, info = load_image(path)
    check_mnist_like(out)
    assert info["inverted"] is True
    assert info["border_mean"] == pytest.approx(1.0)
    assert info["shape"] == (150, 200)
    assert info["format"] == "PNG"
    assert info["mode"] == "RGB"
    assert out.max() > 0.9  # a black stroke becomes full-intensity ink
    # A tall, narrow "1": the longer side is the height.
    rows, cols = np.flatnonzero((out > 0.1).any(1)), np.flatnonzero((out > 0.1).any(0))
    assert rows[-1] - rows[0] + 1 >= 19
    assert cols[-1] - cols[0] + 1 < 12


def test_transparent_background_counts_as_white(tmp_path):
    # Fully transparent pixels are (0, 0, 0, 0): read without compositing, the paper would be black
    # and so would the ink, leaving nothing.
    rgba = Image.new("RGBA", (200, 150), (0, 0, 0, 0))
    stroke = draw_one(ink=255, paper=0)  # the stroke as a mask
    rgba.paste((0, 0, 0, 255), mask=stroke)
    rgba.save(tmp_path / "rgba.png")
    draw_one().save(tmp_path / "plain.png")
    out, info = load_image(tmp_path / "rgba.png")
    plain, _ = load_image(tmp_path / "plain.png")
    check_mnist_like(out)
    assert info["inverted"] is True
    np.testing.assert_allclose(out, plain, atol=2 / 255)


@pytest.mark.parametrize(
    ("mode", "suffix"),
    [
        ("L", ".png"),
        ("LA", ".png"),
        ("P", ".png"),
        ("P", ".gif"),
        ("1", ".png"),
        ("1", ".bmp"),
        ("I;16", ".png"),
        ("RGB", ".jpg"),
        ("RGB", ".BMP"),
        ("CMYK", ".jpeg"),
    ],
)
def test_every_mode_and_format_gives_the_same_digit(tmp_path, mode, suffix):
    base = draw_one()
    reference, _ = load_image(_save(base, tmp_path / "ref.png"))
    img = Image.fromarray(np.asarray(base, np.uint16) * 257) if mode == "I;16" else base.convert(mode)
    path = _save(img, tmp_path / f"digit{suffix}")
    out, info = load_image(path)
    assert Image.open(path).mode == info["mode"]
    check_mnist_like(out)
    assert info["inverted"] is True
    # JPEG is lossy; the others should agree to rounding.
    tol = 0.03 if suffix.lower() in (".jpg", ".jpeg") else 1e-6
    assert np.abs(out - reference).mean() < tol


def _save(img: Image.Image, path):
    img.save(path)
    return path


def test_palette_transparency_and_la_alpha_composite_onto_white(tmp_path):
    # A GIF with a transparent palette entry for the background, as drawing apps export them.
    p = Image.new("P", (60, 60), 0)
    p.putpalette([0, 0, 0] * 256)  # every entry black: only transparency makes the paper white
    ImageDraw.Draw(p).line([(30, 10), (30, 50)], fill=1, width=5)
    p.save(tmp_path / "t.gif", transparency=0)
    out, info = load_image(tmp_path / "t.gif")
    assert info["inverted"] is True
    check_mnist_like(out)

    la = np.zeros((60, 60, 2), np.uint8)
    la[10:50, 28:33, 1] = 255  # black, opaque stroke; the rest black but transparent
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    out_la, _ = load_image(tmp_path / "la.png")
    np.testing.assert_allclose(out_la, out, atol=1e-6)


def test_exif_orientation_is_applied(tmp_path):
    # A horizontal bar stored with "rotate 90°" in EXIF is a vertical bar to the person who took it.
    img = Image.new("L", (120, 40), 255)
    ImageDraw.Draw(img).line([(10, 20), (110, 20)], fill=0, width=6)
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(tmp_path / "photo.jpg", exif=exif)
    out, info = load_image(tmp_path / "photo.jpg")
    assert info["shape"] == (120, 40)
    rows, cols = np.flatnonzero((out > 0.1).any(1)), np.flatnonzero((out > 0.1).any(0))
    assert len(rows) > 3 * len(cols)


def test_black_background_is_not_inverted_and_invert_can_be_forced(tmp_path):
    path = _save(draw_one(ink=255, paper=0), tmp_path / "dark.png")
    out, info = load_image(path)
    assert info["inverted"] is False
    check_mnist_like(out)
    forced, info = load_image(path, invert=True, center=False)
    assert info["inverted"] is True
    assert forced.mean() > 0.8  # the black paper became white
    kept, info = load_image(_save(draw_one(), tmp_path / "light.png"), invert=False, center=False)
    assert info["inverted"] is False
    assert kept.mean() > 0.8


def test_mnist_npy_passes_through_exactly_without_centring(tmp_path, mnist):
    img = mnist[0]
    expected = img.astype(np.float32) / np.float32(255)
    for name, arr in [("hw", img), ("hw1", img[..., None]), ("1hw", img[None])]:
        np.save(tmp_path / f"{name}.npy", arr)
        out, info = load_image(tmp_path / f"{name}.npy", center=False)
        np.testing.assert_array_equal(out, expected)
        assert info["inverted"] is False
        assert info["mode"] == "uint8"


def test_float_bool_int_and_colour_arrays(tmp_path, mnist):
    img = mnist[0]
    expected, _ = load_image(_save_npy(tmp_path / "u8.npy", img))
    for name, arr in [
        ("f64", img / 255.0),
        ("f32_255", img.astype(np.float32)),  # floats above 1: the 0-255 scale
        ("i64", img.astype(np.int64)),
        ("rgb", np.repeat(img[..., None], 3, axis=2)),
        ("rgba", np.dstack([img, img, img, np.full_like(img, 255)])),
    ]:
        out, _ = load_image(_save_npy(tmp_path / f"{name}.npy", arr))
        np.testing.assert_allclose(out, expected, atol=1e-5, err_msg=name)

    # Black ink on a transparent background composites to black on white, then inverts back.
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = img
    out, info = load_image(_save_npy(tmp_path / "alpha.npy", rgba))
    assert info["inverted"] is True
    np.testing.assert_allclose(out, expected, atol=1e-5)

    mask = img > 127
    out, info = load_image(_save_npy(tmp_path / "bool.npy", mask), center=False)
    np.testing.assert_array_equal(out, mask.astype(np.float32))
    assert info["mode"] == "bool"
    check_mnist_like(load_image(tmp_path / "bool.npy")[0])


def _save_npy(path, arr):
    np.save(path, arr)
    return path


def test_mnist_png_round_trip(tmp_path, mnist):
    for i, img in enumerate(mnist):
        path = _save(Image.fromarray(img), tmp_path / f"{i}.png")
        flat, info = load_image(path, center=False)
        np.testing.assert_allclose(flat, img / 255, atol=1 / 255)
        assert info["inverted"] is False
        # MNIST is already cropped, scaled and centred by mass, so doing it again changes little.
        centred, _ = load_image(path)
        assert np.abs(centred - img / 255).mean() < 0.05, i


def test_blank_images_and_small_canvases(tmp_path):
    for paper in (0, 255):
        out, info = load_image(_save(Image.new("L", (40, 30), paper), tmp_path / f"{paper}.png"))
        assert info["ink_box"] is None
        np.testing.assert_array_equal(out, np.zeros((28, 28), np.float32))
    out, _ = load_image(_save(draw_one(), tmp_path / "one.png"), size=(14, 10))
    assert out.shape == (14, 10)
    tiny, _ = load_image(_save(Image.new("L", (1, 1), 0), tmp_path / "dot.png"), invert=True)
    assert tiny.max() == pytest.approx(1.0)


def test_load_images_stacks(tmp_path, mnist):
    paths = [_save(Image.fromarray(img), tmp_path / f"{i}.png") for i, img in enumerate(mnist[:3])]
    paths.append(_save(draw_one(), tmp_path / "one.jpg"))
    images, infos = load_images(paths, center=False)
    assert images.shape == (4, 28, 28)
    assert images.dtype == np.float32
    assert [i["inverted"] for i in infos] == [False, False, False, True]
    assert load_images([], size=(8, 8))[0].shape == (0, 8, 8)
    with pytest.raises(ConfigError, match="list of paths"):
        load_images(str(paths[0]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"invert": "yes"}, "invert must be"),
        ({"size": (28,)}, "size must be"),
        ({"size": (0, 28)}, "size must be positive"),
        ({"size": (28.5, 28)}, "must be an integer"),
    ],
)
def test_bad_options_are_config_errors(tmp_path, kwargs, match):
    path = _save(draw_one(), tmp_path / "one.png")
    with pytest.raises(ConfigError, match=match):
        load_image(path, **kwargs)


def _png_bytes(tmp_path) -> bytes:
    return _save(draw_one(), tmp_path / "good.png").read_bytes()


ERROR_CASES = {
    "missing.png": (None, "no such file; expected an image file (.png, .jpg"),
    "notes.txt": (b"hello", "expected one of .png, .jpg, .jpeg, .bmp, .gif, .npy"),
    "noext": (b"hello", "(no suffix); expected one of"),
    "garbage.png": (b"this is not a png", "expected a PNG, JPEG, BMP or GIF file"),
    "truncated.png": ("truncated", "corrupt or truncated image"),
    "garbage.npy": (b"\x93NUMPY nonsense", "expected a file written by numpy.save"),
    "4d.npy": (np.zeros((2, 3, 4, 5), np.uint8), "shape (2, 3, 4, 5) is not an image; expected (H, W)"),
    "chw.npy": (
        np.zeros((3, 28, 28), np.uint8),
        "expected (H, W), (H, W, 1), (H, W, 3), (H, W, 4) or (1, H, W) (for channels-first",
    ),
    "complex.npy": (np.zeros((4, 4), complex), "dtype complex128 is not supported; expected uint8"),
    "strings.npy": (np.full((4, 4), "a"), "is not supported; expected uint8"),
    "object.npy": (np.array([[None, 1]], object), "expected a file written by numpy.save"),
    "negative.npy": (np.full((4, 4), -0.5), "range from -0.5 to -0.5; expected"),
    "huge.npy": (np.full((4, 4), 300.0), "range from 300 to 300; expected"),
    "wide_int.npy": (np.full((4, 4), 1000), "int64 values range from 1000 to 1000; expected"),
    "nan.npy": (np.full((4, 4), np.nan), "NaN or infinite values; expected"),
    "empty.npy": (np.zeros((0, 5), np.uint8), "empty image (shape (0, 5)); expected at least one"),
    "npz.npy": ("npz", "found an .npz archive; expected a single array"),
}


@pytest.mark.parametrize("name", ERROR_CASES)
def test_errors_name_the_file_and_the_expectation(tmp_path, name):
    content, match = ERROR_CASES[name]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, np.ndarray):
        with open(path, "wb") as f:
            np.save(f, content, allow_pickle=True)
    elif content == "truncated":
        path.write_bytes(_png_bytes(tmp_path)[:300])
    elif content == "npz":
        with open(path, "wb") as f:
            np.savez(f, a=np.zeros((4, 4)))
    with pytest.raises(DataError) as err:
        load_image(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert name in message
    assert "expected" in message
    assert match in message, message


def test_directory_is_an_error(tmp_path):
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(DataError, match=r"folder\.png: expected an image file, found a directory"):
        load_image(tmp_path / "folder.png")


def test_unsupported_message_lists_every_suffix(tmp_path):
    path = tmp_path / "scan.tiff"
    path.write_bytes(b"II*\0")
    with pytest.raises(DataError) as err:
        load_image(path)
    assert all(s in str(err.value) for s in SUPPORTED_SUFFIXES)
