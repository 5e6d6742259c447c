"""What the screen shows of the document's arrays: 8-bit display pyramids, overlay colouring, QImage views.

The document keeps full resolution and bit depth; the canvas paints from these display copies.
Level k of a pyramid is the image shrunk by 2**k (box filter), so a zoomed-out view of a 100 MP
scan reads a few megapixels instead of the whole photo. Pyramids update only the changed box.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Self

import cv2
import numpy as np
from PySide6.QtGui import QColor, QImage

from restorer.core.image import to_8bit

if TYPE_CHECKING:
    from restorer.core.document import Document

# Stop halving once the level fits in this many pixels on its long side.
SMALLEST_SIDE = 512

Box = tuple[int, int, int, int]  # y0, x0, y1, x1 (exclusive ends), like core.box.BBox


def _half(arr: np.ndarray) -> np.ndarray:
    """Shrink by exactly 2 with a box filter; odd sizes are padded by edge replication first.

    Exactly 2 (never a fractional scale) keeps a box update identical to a full rebuild.
    """
    h, w = arr.shape[:2]
    ph, pw = h % 2, w % 2
    if ph or pw:
        arr = cv2.copyMakeBorder(arr, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
    out = cv2.resize(arr, ((w + pw) // 2, (h + ph) // 2), interpolation=cv2.INTER_AREA)
    if out.ndim == 2 and arr.ndim == 3:  # cv2 drops a single channel axis
        out = out[:, :, None]
    return out


class Pyramid:
    """Level 0 plus halved levels; ``update(box)`` refreshes one box through every level."""

    def __init__(self, base: np.ndarray) -> None:
        self.levels: list[np.ndarray] = [base]
        while max(self.levels[-1].shape[:2]) > SMALLEST_SIDE:
            self.levels.append(self._shrink(self.levels[-1]))

    @property
    def shape(self) -> tuple[int, int]:
        return self.levels[0].shape[:2]

    def _shrink(self, arr: np.ndarray) -> np.ndarray:
        return _half(arr)

    def level_for_scale(self, scale: float) -> int:
        """The smallest level that still has at least one source pixel per screen pixel."""
        k = 0
        while k + 1 < len(self.levels) and scale * (2 ** (k + 1)) <= 1.0:
            k += 1
        return k

    def clone(self) -> Self:
        """An independent copy of every level (no conversion or shrinking redone)."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)  # what a subclass holds beside the levels (a colour transform)
        twin.levels = [level.copy() for level in self.levels]
        return twin

    def update(self, box: Box | None) -> None:
        """Recompute the shrunken levels inside ``box`` (level-0 coordinates) after level 0 changed."""
        if box is None:
            for k in range(1, len(self.levels)):
                self.levels[k] = self._shrink(self.levels[k - 1])
            return
        y0, x0, y1, x1 = box
        for k in range(1, len(self.levels)):
            prev, cur = self.levels[k - 1], self.levels[k]
            # Align to the 2 x 2 blocks of the previous level so the blocks are the same as a full build.
            y0, x0 = (y0 // 2) * 2, (x0 // 2) * 2
            y1 = min(-(-y1 // 2) * 2, prev.shape[0] + prev.shape[0] % 2)
            x1 = min(-(-x1 // 2) * 2, prev.shape[1] + prev.shape[1] % 2)
            crop = prev[y0 : min(y1, prev.shape[0]), x0 : min(x1, prev.shape[1])]
            ly0, lx0, ly1, lx1 = y0 // 2, x0 // 2, y1 // 2, x1 // 2
            small = self._shrink(crop)
            cur[ly0:ly1, lx0:lx1] = small[: ly1 - ly0, : lx1 - lx0]
            y0, x0, y1, x1 = ly0, lx0, ly1, lx1


class MaskPyramid(Pyramid):
    """A bool layer (mask, guide edges): a shrunken pixel is set if any pixel under it is (thin lines stay visible)."""

    def _shrink(self, arr: np.ndarray) -> np.ndarray:
        h, w = arr.shape
        if h % 2 or w % 2:
            arr = np.pad(arr, ((0, h % 2), (0, w % 2)), mode="edge")
        rows = arr[0::2] | arr[1::2]
        return rows[:, 0::2] | rows[:, 1::2]


def write_bgra(pixels: np.ndarray, out: np.ndarray, transform: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
    """Write ``pixels`` (H x W x 1|3, uint8|uint16) into ``out`` (H x W x 4 uint8, may be a view) as RGB32.

    The same bytes as core.image.to_display_rgb8 (16-bit rounded per pixel, so a changed box
    converts exactly as the whole photo would). 8-bit photos convert straight into ``out`` and
    16-bit ones through one 8-bit temporary (gray is not widened to RGB first): a fill's
    repaint box can be half the photo, and this runs on the GUI thread. ``transform`` converts the
    8-bit RGB to the screen's colours (restorer.ui.colour) before it is stored.
    """
    src = to_8bit(pixels)
    if src.ndim == 3 and src.shape[2] == 1:
        src = src[:, :, 0]
    elif transform is not None:
        src = transform(src)
    code = cv2.COLOR_GRAY2BGRA if src.ndim == 2 else cv2.COLOR_RGB2BGRA
    result = cv2.cvtColor(src, code, dst=out)
    if result is not out and not np.shares_memory(result, out):  # OpenCV could not write in place
        out[...] = result


class RgbPyramid(Pyramid):
    """The 8-bit display copy of a photo, stored as Qt's RGB32 (B, G, R, 255 bytes per pixel).

    RGB32 is what QPainter scales fastest (about 3x faster than RGB888 for a smooth draw), and
    each level wraps into a QImage without a copy. ``rgb(k)`` gives level k as an RGB view.
    """

    def __init__(self, pixels: np.ndarray, icc_profile: bytes | None = None) -> None:
        from restorer.ui.colour import display_transform

        # The embedded profile's colours converted for the screen once, in level 0 and each box
        # written: the shrunken levels are made from it, so every level is converted (and cached).
        self.transform = display_transform(icc_profile, pixels.shape[2])
        h, w = pixels.shape[:2]
        base = np.empty((h, w, 4), dtype=np.uint8)
        write_bgra(pixels, base, self.transform)
        super().__init__(base)

    def rgb(self, level: int = 0) -> np.ndarray:
        return self.levels[level][:, :, 2::-1]

    def qimage(self, level: int) -> QImage:
        arr = self.levels[level]
        h, w = arr.shape[:2]
        return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB32)

    def refresh(self, pixels: np.ndarray, box: Box | None) -> None:
        """Redraw ``box`` (all if None) from the whole photo's ``pixels``."""
        if box is None:
            write_bgra(pixels, self.levels[0], self.transform)
            self.update(None)
        else:
            y0, x0, y1, x1 = box
            self.write(box, pixels[y0:y1, x0:x1])

    def write(self, box: Box, patch: np.ndarray) -> None:
        """Redraw ``box`` from ``patch``, the photo's pixels of that box only."""
        y0, x0, y1, x1 = box
        write_bgra(patch, self.levels[0][y0:y1, x0:x1], self.transform)
        self.update(box)


def original_display(doc: Document, display: RgbPyramid | None) -> RgbPyramid:
    """The display pyramid of ``doc``'s photo as opened, made from ``display`` (the current photo's).

    The current display already holds every pixel no applied edit touched, so only the boxes of
    applied photo patches are redrawn from the original: on a 100 MP scan with a few fills this
    converts a few boxes, not the whole photo (benchmarks/bench_hold.py). Once old photo edits were
    dropped from the history the original must be read from its file, and all of it is converted.
    """
    if display is None or display.shape != doc.shape or doc.history.has_dropped("photo"):
        return RgbPyramid(doc.original_pixels(), doc.photo.meta.icc_profile)
    twin = display.clone()
    for box in doc.history.applied_boxes("photo"):
        twin.write(box, doc.original_pixels(box))
    return twin


def rgb8_to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of an 8-bit H x W x 3 array."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def qimage_to_rgb8(image: QImage) -> np.ndarray:
    """An H x W x 3 uint8 copy of a QImage."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.bytesPerLine() * h)
    return buf.reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def overlay_value(color: QColor, opacity: float) -> np.uint32:
    """One premultiplied ARGB32 pixel: ``color`` at ``opacity``."""
    a = int(round(255 * max(0.0, min(1.0, opacity))))
    r, g, b = (c * a // 255 for c in (color.red(), color.green(), color.blue()))
    return np.uint32((a << 24) | (r << 16) | (g << 8) | b)


def overlay_argb(layer: np.ndarray, value: np.uint32) -> np.ndarray:
    """H x W uint32 premultiplied ARGB: ``value`` where ``layer`` is set, transparent elsewhere."""
    return np.where(layer, value, np.uint32(0)).astype(np.uint32, copy=False)


def argb_qimage(argb: np.ndarray) -> QImage:
    """A QImage over ``argb`` (H x W uint32, contiguous rows); keep the array alive while it is used."""
    h, w = argb.shape
    return QImage(argb.data, w, h, argb.strides[0], QImage.Format.Format_ARGB32_Premultiplied)


class OverlayCache:
    """Coloured images of a bool layer's pyramid levels, kept up to date box by box.

    Levels up to CACHE_PIXELS are cached whole (pans and zooms then cost one draw); larger
    levels (level 0 of a big scan) are coloured per paint, only where the window shows them.
    """

    CACHE_PIXELS = 16_000_000

    def __init__(self, pyramid: MaskPyramid, color: QColor, opacity: float) -> None:
        self.pyramid = pyramid
        self.color = color
        self.value = overlay_value(color, opacity)
        self._levels: dict[int, np.ndarray] = {}

    def set_opacity(self, opacity: float) -> None:
        self.value = overlay_value(self.color, opacity)
        self._levels.clear()

    def cached(self, level: int) -> np.ndarray | None:
        layer = self.pyramid.levels[level]
        if layer.size > self.CACHE_PIXELS:
            return None
        if level not in self._levels:
            self._levels[level] = overlay_argb(layer, self.value)
        return self._levels[level]

    def recolour(self, levels: Sequence[Sequence[tuple[Box, np.ndarray]]]) -> None:
        """The pyramid's levels were given these tiles (display_tiles.PyramidTiles.levels): recolour them."""
        for level, argb in self._levels.items():
            for (y0, x0, y1, x1), layer in levels[level]:
                argb[y0:y1, x0:x1] = overlay_argb(layer, self.value)

    def update(self, box: Box | None) -> None:
        """The layer changed inside ``box`` (level-0 coordinates; None = everywhere)."""
        self.pyramid.update(box)
        if box is None:
            self._levels.clear()
            return
        y0, x0, y1, x1 = box
        for level, argb in self._levels.items():
            f = 2**level
            ly0, lx0, ly1, lx1 = y0 // f, x0 // f, -(-y1 // f), -(-x1 // f)
            argb[ly0:ly1, lx0:lx1] = overlay_argb(self.pyramid.levels[level][ly0:ly1, lx0:lx1], self.value)
