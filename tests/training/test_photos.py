"""Training reads photos the way the app does: EXIF orientation applied, 16 bits rounded, gray made RGB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer.errors import RestorerError
from restorer.training.evaluate import load_square
from restorer.training.photos import read_photo_rgb8


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = (255, 0, 0)  # left half red: stored landscape, shown portrait (rotated 90 degrees)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "turned.png"
    Image.fromarray(pixels).save(path, exif=exif)
    img = read_photo_rgb8(path)
    assert img.shape == (40, 20, 3) and img.dtype == np.uint8
    assert tuple(img[5, 10]) == (255, 0, 0) and tuple(img[35, 10]) == (0, 0, 0)  # red on top once turned


def test_sixteen_bit_gray_is_rounded_to_rgb8(tmp_path: Path) -> None:
    path = tmp_path / "scan16.png"
    Image.fromarray(np.full((8, 8), 257 * 200 + 200, np.uint16)).save(path)  # 200.78 of 255: rounds up
    img = read_photo_rgb8(path)
    assert img.shape == (8, 8, 3) and (img == 201).all()
    assert load_square(path, 4).shape == (4, 4, 3)


def test_an_unreadable_photo_is_a_restorer_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"not a jpeg")
    with pytest.raises(RestorerError, match="broken.jpg"):
        read_photo_rgb8(path)
