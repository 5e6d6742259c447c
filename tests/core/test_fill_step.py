"""A fill step prepared away from the document (core/fill_step.py) is the step apply_fill makes, or nothing."""

from __future__ import annotations

import numpy as np
import pytest

from restorer.core.box import BBox
from restorer.core.document import Document, DocumentEvent
from restorer.core.fill_step import prepare_fill
from restorer.core.image import Photo, PhotoMeta
from restorer.errors import PhotoBusy


def _doc(dtype: type = np.uint8, seed: int = 3) -> Document:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    pixels = rng.integers(0, top, (300, 420, 3), dtype=dtype, endpoint=True)
    doc = Document(Photo(pixels=pixels, alpha=None, meta=PhotoMeta(format="PNG"), path=None))
    doc.begin_stroke()
    doc.paint((20, 30), (400, 270), 4)  # a long diagonal scratch
    doc.commit_stroke()
    doc.begin_stroke(layer="guides")
    doc.paint((100, 100), (150, 120), 1)
    doc.commit_stroke()
    return doc


def _engine_like_patches(doc: Document, seed: int = 4) -> list[tuple[BBox, np.ndarray]]:
    """Two disjoint crop-sized patches whose pixels change only under the mask (context kept)."""
    rng = np.random.default_rng(seed)
    out = []
    for box in (BBox(0, 0, 160, 220), BBox(160, 0, 300, 420)):
        arr = doc.pixels[box.slices].copy()
        hole = doc.mask[box.slices]
        arr[hole] = rng.integers(0, np.iinfo(arr.dtype).max, (int(hole.sum()), 3), dtype=arr.dtype)
        out.append((box, arr))
    return out


def _prepared(doc: Document, patches):
    # what the worker holds: copies of the crops and of the layers, as they were at the revision
    crops = {tuple(box): doc.pixels[box.slices].copy() for box, _ in patches}
    layers = {"mask": doc.mask.copy(), "guides": doc.guides.copy(), "unguides": doc.unguides.copy()}
    return prepare_fill(patches, lambda box: crops[tuple(box)], shape=doc.pixels.shape, dtype=doc.pixels.dtype,
                        revision=doc.revision, layers=layers)


def _state(doc: Document):
    return doc.pixels.copy(), doc.mask.copy(), doc.guides.copy(), doc.unguides.copy()


def _same_state(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_prepared_step_is_the_step_apply_fill_makes(dtype):
    old, new = _doc(dtype), _doc(dtype)
    patches = _engine_like_patches(old)
    start = _state(new)
    events: list[DocumentEvent] = []
    new.add_listener(events.append)
    old_events: list[DocumentEvent] = []
    old.add_listener(old_events.append)
    step = _prepared(new, patches)
    assert _same_state(_state(new), start), "preparing changes nothing"

    a = old.apply_fill(patches, "Fill (x)", meta={"m": 1})
    b = new.apply_prepared(step, "Fill (x)", meta={"m": 1})
    assert b is not None
    assert _same_state(_state(old), _state(new))
    assert not new.mask.any() and not new.guides.any()
    assert (a.label, a.kind, a.meta) == (b.label, b.kind, b.meta)
    assert len(a.patches) == len(b.patches) > 2
    for p, q in zip(a.patches, b.patches):
        assert (p.target, p.box) == (q.target, q.box)
        assert np.array_equal(p.before, q.before) and np.array_equal(p.after, q.after)
    assert old.revision == new.revision and new.history.index == old.history.index
    assert [(e.kind, e.box) for e in events] == [(e.kind, e.box) for e in old_events]
    # only the changed blocks are held, not the crops twice
    assert b.nbytes < sum(2 * arr.nbytes for _, arr in patches) / 2

    filled = _state(new)
    new.undo()
    assert _same_state(_state(new), start)
    new.redo()
    assert _same_state(_state(new), filled)
    new.goto(0)
    new.goto(len(new.history))
    assert _same_state(_state(new), filled)


def test_a_stale_step_is_not_applied():
    doc = _doc()
    step = _prepared(doc, _engine_like_patches(doc))
    doc.begin_stroke()
    doc.paint((10, 10), (12, 12), 2)
    doc.commit_stroke()
    before, steps, revision = _state(doc), len(doc.history), doc.revision
    assert doc.apply_prepared(step, "Fill") is None
    assert _same_state(_state(doc), before) and len(doc.history) == steps and doc.revision == revision
    # undo and redo move the revision on too: the step made at the original revision stays stale
    doc.undo()
    doc.redo()
    assert doc.apply_prepared(step, "Fill") is None


def test_a_locked_photo_refuses_a_prepared_step():
    doc = _doc()
    step = _prepared(doc, _engine_like_patches(doc))
    doc.lock_photo("saving")
    with pytest.raises(PhotoBusy):
        doc.apply_prepared(step, "Fill")
    doc.unlock_photo()
    assert doc.apply_prepared(step, "Fill") is not None


def test_prepare_refuses_overlapping_or_mismatched_patches():
    doc = _doc()
    arr = doc.pixels[:50, :50].copy()
    with pytest.raises(ValueError, match="overlap"):
        prepare_fill([(BBox(0, 0, 50, 50), arr), (BBox(40, 40, 90, 90), arr)], lambda b: doc.pixels[b.slices],
                     shape=doc.pixels.shape, dtype=doc.pixels.dtype, revision=doc.revision)
    with pytest.raises(ValueError, match="expected"):
        prepare_fill([(BBox(0, 0, 50, 50), arr.astype(np.uint16))], lambda b: doc.pixels[b.slices],
                     shape=doc.pixels.shape, dtype=doc.pixels.dtype, revision=doc.revision)
