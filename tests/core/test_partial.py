"""A truncated JPEG: refused by load_photo, its readable part opened by load_partial and marked as partly read."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from restorer.core.image import load_photo
from restorer.core.partial import can_read_partly, load_partial, unread_rows
from restorer.errors import ImageError


def _truncated_jpeg(tmp_path: Path) -> tuple[Path, np.ndarray]:
    yy, xx = np.mgrid[0:160, 0:240]
    rgb = np.stack([xx, yy, (xx + yy) // 2], axis=2).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    return path, rgb


def test_truncated_jpeg_opens_partly_and_says_so(tmp_path: Path) -> None:
    path, rgb = _truncated_jpeg(tmp_path)
    with pytest.raises(ImageError, match="truncated") as refused:
        load_photo(path)
    assert can_read_partly(path, str(refused.value))
    photo = load_partial(path)
    assert photo.pixels.shape == rgb.shape and photo.meta.extra["truncated"] is True
    missing = unread_rows(photo.pixels)
    assert 0 < missing < rgb.shape[0]
    top = rgb.shape[0] - missing
    assert np.abs(photo.pixels[: top - 16].astype(int) - rgb[: top - 16]).mean() < 3  # the read part is the photo
    assert any(f"bottom {missing} of 160 rows" in n for n in photo.meta.extra["notes"])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # Pillow's global switch is restored


def test_only_truncated_jpegs_are_offered(tmp_path: Path) -> None:
    png = tmp_path / "x.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(png)
    assert not can_read_partly(png, "file is truncated")
    path, _ = _truncated_jpeg(tmp_path)
    assert not can_read_partly(path, "not an image file")
