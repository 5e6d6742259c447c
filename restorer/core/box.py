"""BBox: the axis-aligned pixel box every layer shares (masks, history patches, crops, the views)."""

from __future__ import annotations

from typing import NamedTuple


class BBox(NamedTuple):
    """An axis-aligned box of pixels ``[y0, y1) x [x0, x1)`` (exclusive ends)."""

    y0: int
    x0: int
    y1: int
    x1: int

    @classmethod
    def full(cls, shape: tuple[int, ...]) -> BBox:
        """The box covering a whole array of ``shape`` (H, W, ...)."""
        return cls(0, 0, int(shape[0]), int(shape[1]))

    @property
    def height(self) -> int:
        return max(0, self.y1 - self.y0)

    @property
    def width(self) -> int:
        return max(0, self.x1 - self.x0)

    @property
    def area(self) -> int:
        return self.height * self.width

    @property
    def empty(self) -> bool:
        return self.height == 0 or self.width == 0

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` slices, so ``array[box.slices]`` is the box's region."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def union(self, other: BBox | None) -> BBox:
        """The smallest box holding both (an empty or missing box adds nothing)."""
        if other is None or other.empty:
            return self
        if self.empty:
            return BBox(*other)
        return BBox(min(self.y0, other.y0), min(self.x0, other.x0),
                    max(self.y1, other.y1), max(self.x1, other.x1))

    def intersect(self, other: BBox) -> BBox | None:
        """The overlap of both boxes, or None when they do not overlap."""
        box = BBox(max(self.y0, other.y0), max(self.x0, other.x0),
                   min(self.y1, other.y1), min(self.x1, other.x1))
        return None if box.empty else box

    def clip(self, shape: tuple[int, ...]) -> BBox:
        """This box limited to an array of ``shape`` (may come out empty)."""
        h, w = int(shape[0]), int(shape[1])
        y0, x0 = min(max(self.y0, 0), h), min(max(self.x0, 0), w)
        return BBox(y0, x0, max(y0, min(self.y1, h)), max(x0, min(self.x1, w)))

    def pad(self, n: int, shape: tuple[int, ...]) -> BBox:
        """This box grown by ``n`` pixels on every side, clipped to ``shape``."""
        return BBox(self.y0 - n, self.x0 - n, self.y1 + n, self.x1 + n).clip(shape)

    def offset(self, dy: int, dx: int) -> BBox:
        """This box moved by ``(dy, dx)``."""
        return BBox(self.y0 + dy, self.x0 + dx, self.y1 + dy, self.x1 + dx)

    def relative_to(self, outer: BBox) -> tuple[slice, slice]:
        """Slices addressing this box inside an array that holds ``outer``'s region."""
        return (slice(self.y0 - outer.y0, self.y1 - outer.y0),
                slice(self.x0 - outer.x0, self.x1 - outer.x0))
