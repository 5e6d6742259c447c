"""The comparison pictures made in core (restorer.core.comparison, restorer.core.difference_maps): no Qt."""

from __future__ import annotations

import numpy as np

from restorer.core.box import BBox
from restorer.core.comparison import document_pair, plain_rgb8, state_thumbnail, step_pair, step_thumbnail
from restorer.core.difference_maps import difference_levels, difference_map
from restorer.core.document import Document
from restorer.core.image import Photo, PhotoMeta

GREY = 120


def make_doc(pixels: np.ndarray) -> Document:
    return Document(Photo(pixels, meta=PhotoMeta("TIFF")))


def three_steps() -> Document:
    pixels = np.full((60, 80, 3), GREY, dtype=np.uint8)
    pixels[:, :, 1] += (np.arange(80) % 7).astype(np.uint8)[None, :]  # a little texture
    doc = Document(Photo(pixels, meta=PhotoMeta("PNG")))
    for p0, p1, label in (((20, 30), (40, 30), "Brush 1"), ((60, 10), (60, 20), "Brush 2")):
        doc.begin_stroke()
        doc.paint(p0, p1, 3)
        doc.commit_stroke(label)
    patch = np.zeros((10, 30, 3), dtype=np.uint8)
    patch[..., 1] = 230
    doc.apply_fill([(BBox(25, 15, 35, 45), patch)], "Fill (telea)")
    return doc


def test_difference_levels_are_zero_exactly_where_pixels_are_equal():
    a = np.zeros((4, 5, 3), dtype=np.uint16)
    b = a.copy()
    b[1, 2, 0] = 1  # one 16-bit step
    b[3, 4] = 65535
    levels = difference_levels(a, b)
    assert levels[1, 2] >= 1 and levels[3, 4] == 255
    assert np.count_nonzero(levels) == 2
    # Max pooling keeps a one-pixel change on a 4x smaller map.
    big_a = np.zeros((400, 400, 3), dtype=np.uint8)
    big_b = big_a.copy()
    big_b[123, 321, 1] = 1
    pooled = difference_map(big_a, big_b, (100, 100))
    assert np.count_nonzero(pooled) == 1 and pooled[123 // 4, 321 // 4] > 0


def test_step_pair_returns_exactly_the_patch_arrays():
    pixels = np.random.default_rng(2).integers(0, 65535, (50, 70, 3), dtype=np.uint16)
    doc = make_doc(pixels.copy())
    fill = np.full((10, 20, 3), 4000, dtype=np.uint16)
    doc.apply_fill([(BBox(5, 10, 15, 30), fill)], "Fill (telea)")
    doc.begin_stroke()
    doc.paint((40, 40), (50, 40), 3)
    doc.commit_stroke("Brush")

    patch = doc.history.steps[0].patches[0]
    pair = step_pair(doc, 1)
    assert pair.before is patch.before and pair.after is patch.after
    np.testing.assert_array_equal(pair.before, pixels[tuple(patch.box.slices)])
    np.testing.assert_array_equal(pair.after, fill)  # every fill pixel differed, so the box is whole
    assert pair.before.dtype == np.uint16 and pair.title == "Step 1: Fill (telea)"
    # With context: the same patch inside its surroundings, read back from the history.
    wide = step_pair(doc, 1, context=4)
    assert wide.box == (1, 6, 19, 34)
    np.testing.assert_array_equal(wide.before, pixels[1:19, 6:34])
    np.testing.assert_array_equal(wide.after[4:14, 4:24], fill)
    np.testing.assert_array_equal(wide.after[:4], pixels[1:5, 6:34])

    # A mask step: the tinted region differs exactly where the mask changed.
    mask_patch = doc.history.steps[1].patches[0]
    pair = step_pair(doc, 2)
    assert pair.box == tuple(mask_patch.box)
    np.testing.assert_array_equal(pair.difference > 0, mask_patch.before != mask_patch.after)
    assert pair.before.shape[:2] == mask_patch.before.shape


def test_a_big_sparse_step_is_subsampled_but_keeps_every_change_in_its_difference():
    doc = make_doc(np.full((200, 300, 3), 90, dtype=np.uint8))
    mask = np.zeros((200, 300), dtype=bool)
    mask[0, 0] = mask[199, 299] = True  # a 200 x 300 box holding two changed pixels
    doc.set_mask(mask, "Import mask")
    pair = step_pair(doc, 1, max_side=50)
    assert pair.box == (0, 0, 200, 300)
    assert pair.before.shape[:2] == pair.difference.shape[:2] and max(pair.before.shape[:2]) < 100
    assert np.count_nonzero(pair.difference) == 2
    assert pair.difference[0, 0] > 0 and pair.difference[-1, -1] > 0


def test_region_at_a_stride_is_every_stride_th_pixel_at_every_state():
    doc = three_steps()
    box = (3, 4, 57, 71)
    for state in range(len(doc.history.steps) + 1):
        for target in ("photo", "mask"):
            full = doc.region_at(state, BBox(*box), target)
            for stride in (1, 3, 4):
                got = doc.region_at(state, BBox(*box), target, stride)
                np.testing.assert_array_equal(got, full[::stride, ::stride])
    assert max(step_thumbnail(doc, 2, size=32).shape[:2]) == 32


def test_every_picture_goes_through_the_given_rgb8_converter():
    doc = three_steps()
    seen: list[tuple[int, bytes | None]] = []

    def to_rgb8(pixels: np.ndarray, icc: bytes | None) -> np.ndarray:
        seen.append((pixels.size, icc))
        return 255 - plain_rgb8(pixels)  # inverted, so the result shows whose output it is

    plain = state_thumbnail(doc, 0, 32)
    inverted = state_thumbnail(doc, 0, 32, to_rgb8=to_rgb8)
    np.testing.assert_array_equal(inverted, 255 - plain)
    step_thumbnail(doc, 3, 32, to_rgb8=to_rgb8)
    pair = document_pair(doc, max_side=40, to_rgb8=to_rgb8)
    assert int(pair.after.mean()) == int(255 - document_pair(doc, max_side=40).after.mean())
    # A mask step: the photo under the tint is converted too.
    mask_pair, plain_pair = step_pair(doc, 1, to_rgb8=to_rgb8), step_pair(doc, 1)
    assert not np.array_equal(mask_pair.after, plain_pair.after)
    assert len(seen) >= 5
