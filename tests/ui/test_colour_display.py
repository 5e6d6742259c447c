"""Colour-managed display: a photo with a wide-gamut profile is shown converted to sRGB; its pixels are not."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageCms

from restorer.ui.colour import display_transform
from restorer.ui.convert import RgbPyramid, original_display

# Adobe RGB (1998): its primaries adapted to D50 (the PCS white), gamma 563/256.
ADOBE_COLORANTS = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def matrix_profile(name: str, colorants=ADOBE_COLORANTS, gamma: float = 563 / 256) -> bytes:
    """A minimal ICC v2 RGB display profile (matrix and gamma curves), made here so no file is shipped."""
    desc_ascii = name.encode("ascii") + b"\0"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(desc_ascii)) + desc_ascii + b"\0" * 8 + b"\0" * 3 + b"\0" * 67

    def xyz(v: tuple[float, float, float]) -> bytes:
        return b"XYZ " + b"\0" * 4 + b"".join(_s15(c) for c in v)

    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags = [(b"desc", desc), (b"wtpt", xyz((0.9642, 1.0, 0.8249))), (b"rXYZ", xyz(colorants[0])),
            (b"gXYZ", xyz(colorants[1])), (b"bXYZ", xyz(colorants[2])), (b"rTRC", curve), (b"gTRC", curve),
            (b"bTRC", curve), (b"cprt", b"text" + b"\0" * 4 + b"none\0\0\0\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"\0" * 4 + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ " + b"\0" * 12 + b"acsp"
              + b"\0" * 24 + b"\0" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def test_wide_gamut_pixels_are_converted_for_the_screen_only() -> None:
    icc = matrix_profile("Test Adobe RGB")
    pixels = np.zeros((8, 10, 3), np.uint8)
    pixels[:] = (60, 180, 90)  # a saturated green: brighter and more saturated in sRGB numbers
    t = display_transform(icc, 3)
    assert t is not None and t.source == "Test Adobe RGB"
    expected = np.asarray(ImageCms.profileToProfile(Image.fromarray(pixels), ImageCms.ImageCmsProfile(
        io.BytesIO(icc)), ImageCms.createProfile("sRGB"), renderingIntent=0))
    shown = RgbPyramid(pixels, icc)
    assert np.array_equal(shown.rgb(0), expected) and not np.array_equal(shown.rgb(0), pixels)
    assert abs(int(shown.rgb(0)[0, 0, 1]) - 180) <= 8 and shown.rgb(0)[0, 0, 0] < 60  # red drops, green stays
    plain = RgbPyramid(pixels)
    assert np.array_equal(plain.rgb(0), pixels)  # no profile: shown as is
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert display_transform(srgb, 3) is None and display_transform(icc, 1) is None
    assert display_transform(b"not a profile", 3) is None


def test_every_pyramid_level_and_changed_box_is_converted() -> None:
    icc = matrix_profile("Test Adobe RGB 2")
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (1200, 700, 3), dtype=np.uint8)
    shown = RgbPyramid(pixels, icc)
    assert len(shown.levels) >= 2
    fresh = RgbPyramid(pixels, icc)
    pixels[100:300, 50:400] = (250, 20, 30)
    shown.refresh(pixels, (100, 50, 300, 400))
    rebuilt = RgbPyramid(pixels, icc)
    for k in range(len(shown.levels)):
        assert np.array_equal(shown.levels[k], rebuilt.levels[k]), k  # a box update = a full rebuild
    assert not np.array_equal(fresh.levels[1], rebuilt.levels[1])
    assert shown.clone().transform is shown.transform


def _open_wide_gamut(qtbot: Any, window: Any, tmp_path: Path, ui: Any) -> tuple[Any, np.ndarray, bytes]:
    """A flat saturated green PNG tagged Adobe RGB, opened in the window."""
    icc = matrix_profile("Test Adobe RGB")
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[:] = (60, 180, 90)
    path = tmp_path / "wide.png"
    Image.fromarray(rgb).save(path, icc_profile=icc)
    return ui.open_photo(qtbot, window, path), rgb, icc


def test_the_window_shows_a_wide_gamut_photo_converted(qtbot: Any, window: Any, tmp_path: Path, ui: Any) -> None:
    doc, rgb, icc = _open_wide_gamut(qtbot, window, tmp_path, ui)
    assert np.array_equal(doc.pixels, rgb) and doc.photo.meta.icc_profile == icc  # the document is untouched
    shown = window.canvas.display.rgb(0)
    assert not np.array_equal(shown, rgb) and shown[0, 0, 0] < 60
    assert "Test Adobe RGB" in window.statusBar().currentMessage()
    assert np.array_equal(original_display(doc, window.canvas.display).rgb(0), shown)  # hold-for-original too


def test_comparisons_and_thumbnails_show_the_converted_colours(qtbot: Any, window: Any, tmp_path: Path, ui: Any) -> None:
    from restorer.ui.comparison_images import document_pair, state_thumbnail, step_pair

    doc, _, icc = _open_wide_gamut(qtbot, window, tmp_path, ui)
    canvas_colour = window.canvas.display.rgb(0)[5, 5].tolist()
    pair = document_pair(doc)
    assert pair.before[5, 5].tolist() == canvas_colour and pair.after[5, 5].tolist() == canvas_colour
    assert state_thumbnail(doc, 0, 16)[8, 8].tolist() == canvas_colour
    from restorer.core.mask import BBox

    doc.apply_fill([(BBox(10, 10, 20, 20), np.full((10, 10, 3), (60, 180, 90), np.uint8) + 1)], "Fill")
    one = step_pair(doc, 1)
    assert one.icc == icc  # raw patches: the view converts them as the canvas does
    window.comparing.compare_step(1)
    shown = window.comparing.view._images["before"]
    colour = shown.pixelColor(2, 2)
    assert [colour.red(), colour.green(), colour.blue()] == canvas_colour
