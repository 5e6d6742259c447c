"""Images that arrive without a file: the clipboard (Ctrl+V) and image data dropped from a browser, as a Photo.

A pasted photo has no path: it is shown as "untitled", is not added to the recent files, and its
first Save asks where to write it (Save As).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage

from restorer.core.image import Photo, PhotoMeta

PASTED_NOTE = "pasted: no file yet, Save asks where to write it"


def wants_drop(mime: QMimeData) -> bool:
    """A drag the window takes: local files, or image data (decoded only on the drop)."""
    return any(url.isLocalFile() for url in mime.urls()) or mime.hasImage() or \
        any(f.startswith("image/") for f in mime.formats())


def drop_opener(mime: QMimeData, open_path: Callable[[Path], object],
                open_image: Callable[[QImage, str], object]) -> Callable[[], object] | None:
    """What opens a drop: its first local file, else its image data (a browser's image, whose URL
    is no file here); None when it carries neither."""
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    if paths:
        return lambda: open_path(paths[0])
    image = image_from_mime(mime)
    return None if image is None else (lambda: open_image(image, "the drop"))


def image_from_mime(mime: QMimeData | None) -> QImage | None:
    """The image a clipboard or drop carries (Qt's image, or encoded image/* bytes), None if none."""
    if mime is None:
        return None
    if mime.hasImage():
        value = mime.imageData()
        if isinstance(value, QImage) and not value.isNull():
            return value
    for fmt in mime.formats():
        if fmt.startswith("image/"):
            img = QImage.fromData(bytes(mime.data(fmt).data()))
            if not img.isNull():
                return img
    return None


def _array(img: QImage, fmt: QImage.Format, channels: int, dtype: type) -> np.ndarray:
    img = img.convertToFormat(fmt)
    h, w = img.height(), img.width()
    itemsize = np.dtype(dtype).itemsize
    raw = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.bytesPerLine() * h)
    rows = raw.reshape(h, img.bytesPerLine())[:, : w * channels * itemsize]
    return rows.copy().view(dtype).reshape(h, w, channels)


def photo_from_qimage(img: QImage) -> Photo:
    """The array contract from a QImage: 8 or 16 bits as it holds them, gray kept gray, alpha aside
    (dropped when fully opaque)."""
    if img.isNull() or img.width() == 0 or img.height() == 0:
        raise ValueError("the image is empty")
    deep = img.depth() > 32 or img.format() == QImage.Format.Format_Grayscale16
    gray = img.isGrayscale() and not img.hasAlphaChannel()
    alpha = None
    if gray:
        pixels = _array(img, QImage.Format.Format_Grayscale16 if deep else QImage.Format.Format_Grayscale8, 1,
                        np.uint16 if deep else np.uint8)
    elif img.hasAlphaChannel():
        rgba = _array(img, QImage.Format.Format_RGBA64 if deep else QImage.Format.Format_RGBA8888, 4,
                      np.uint16 if deep else np.uint8)
        pixels = np.ascontiguousarray(rgba[:, :, :3])
        a = rgba[:, :, 3]
        alpha = None if (a == np.iinfo(a.dtype).max).all() else np.ascontiguousarray(a)
    elif deep:
        pixels = np.ascontiguousarray(_array(img, QImage.Format.Format_RGBX64, 4, np.uint16)[:, :, :3])
    else:
        pixels = _array(img, QImage.Format.Format_RGB888, 3, np.uint8)
    space = img.colorSpace()
    icc = bytes(space.iccProfile().data()) if space.isValid() and not space.iccProfile().isEmpty() else None
    return Photo(pixels, alpha, PhotoMeta(format="", icc_profile=icc or None, extra={"notes": [PASTED_NOTE]}), None)
