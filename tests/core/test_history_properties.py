"""Properties of the history (hypothesis): after any sequence of edits, undo, redo and goto, the photo
and mask are bit for bit the state they name, and so is any region read from the patches."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from restorer.core.document import Document
from restorer.core.image import Photo
from restorer.core.mask import BBox

H, W = 12, 16
FAST = settings(max_examples=40, deadline=None)

POINT = st.tuples(st.floats(-2, W + 2), st.floats(-2, H + 2))
EDITS = st.one_of(
    st.tuples(st.just("stroke"), POINT, POINT, st.floats(0, 4), st.booleans()),
    st.tuples(st.just("grow"), st.integers(0, 3)),
    st.tuples(st.just("shrink"), st.integers(0, 3)),
    st.tuples(st.just("invert")),
    st.tuples(st.just("clear")),
    st.tuples(st.just("fill"), st.integers(0, H - 1), st.integers(0, W - 1), st.integers(1, H), st.integers(1, W),
              st.integers(0, 2**32 - 1), st.booleans()),
)
MOVES = st.one_of(st.tuples(st.just("undo")), st.tuples(st.just("redo")), st.tuples(st.just("goto"), st.floats(0, 1)))
STEPS = st.lists(st.one_of(EDITS, MOVES), min_size=1, max_size=25)


def _photo(dtype, channels: int, seed: int) -> Photo:
    top = np.iinfo(dtype).max
    return Photo(np.random.default_rng(seed).integers(0, top, (H, W, channels), dtype=dtype, endpoint=True))


def _edit(doc: Document, op: tuple) -> bool:
    """Apply one edit; whether it became a history step."""
    kind = op[0]
    if kind == "stroke":
        _, p0, p1, radius, erase = op
        doc.begin_stroke(erase=erase)
        doc.paint(p0, p1, radius)
        return doc.commit_stroke() is not None
    if kind == "grow":
        return doc.grow_mask(op[1]) is not None
    if kind == "shrink":
        return doc.shrink_mask(op[1]) is not None
    if kind == "invert":
        return doc.invert_mask() is not None
    if kind == "clear":
        return doc.clear_mask() is not None
    _, y0, x0, h, w, seed, clear = op
    box = BBox(y0, x0, min(H, y0 + h), min(W, x0 + w))
    px = doc.pixels
    top = np.iinfo(px.dtype).max
    patch = np.random.default_rng(seed).integers(0, top, (box.height, box.width, px.shape[2]), dtype=px.dtype,
                                                 endpoint=True)
    patch[::2, ::2] = px[box.slices][::2, ::2]  # some pixels unchanged: the patch keeps only what changed
    doc.apply_fill([(box, patch)], "Fill", clear_mask=clear)
    return True


def _check(doc: Document, states: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """The document is in the state the history says, bit for bit."""
    first = doc.history.dropped  # states[k] is absolute; the history numbers from the oldest kept
    pixels, mask = states[first + doc.history.index]
    assert doc.pixels.dtype == pixels.dtype
    assert np.array_equal(doc.pixels, pixels) and np.array_equal(doc.mask, mask)


def _run(doc: Document, steps: list[tuple], data: st.DataObject | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    states = [(doc.pixels.copy(), doc.mask.copy())]
    for op in steps:
        if op[0] in ("undo", "redo"):
            getattr(doc, op[0])()
        elif op[0] == "goto":
            doc.goto(round(op[1] * len(doc.history)))
        elif _edit(doc, op):
            # a new step drops the redo tail: the states after the current one are gone
            del states[doc.history.dropped + doc.history.index :]
            states.append((doc.pixels.copy(), doc.mask.copy()))
        _check(doc, states)
    return states


@FAST
@given(STEPS, st.sampled_from([(np.uint8, 3), (np.uint16, 3), (np.uint16, 1)]), st.integers(0, 2**16))
def test_undo_redo_goto_restore_every_state_exactly(steps, kind, seed) -> None:
    doc = Document(_photo(*kind, seed))
    states = _run(doc, steps)
    n = len(doc.history)
    for index in [0, n, *np.random.default_rng(seed).integers(0, n + 1, 4).tolist(), n // 2]:
        doc.goto(index)
        _check(doc, states)
    doc.goto(n)
    while doc.undo() is not None:
        _check(doc, states)
    assert np.array_equal(doc.pixels, states[0][0]) and np.array_equal(doc.mask, states[0][1])
    while doc.redo() is not None:
        _check(doc, states)
    assert np.array_equal(doc.pixels, states[-1][0]) and np.array_equal(doc.mask, states[-1][1])


@FAST
@given(STEPS, st.integers(0, 2**16), st.tuples(st.integers(0, H - 1), st.integers(0, W - 1),
                                                st.integers(1, H), st.integers(1, W)))
def test_regions_at_any_state_match_that_state(steps, seed, b) -> None:
    doc = Document(_photo(np.uint16, 3, seed))
    states = _run(doc, steps)
    box = BBox(b[0], b[1], min(H, b[0] + b[2]), min(W, b[1] + b[3]))
    for index in range(len(doc.history) + 1):
        pixels, mask = states[index]
        assert np.array_equal(doc.region_at(index, box), pixels[box.slices])
        assert np.array_equal(doc.region_at(index, box, "mask"), mask[box.slices])
    _check(doc, states)  # reading regions moved nothing


@FAST
@given(STEPS, st.integers(0, 2**16), st.integers(0, 3000))
def test_a_byte_budget_drops_old_steps_and_keeps_the_rest_exact(steps, seed, budget) -> None:
    doc = Document(_photo(np.uint8, 3, seed), byte_budget=budget)
    states = _run(doc, steps)
    assert doc.history.nbytes <= budget or len(doc.history) == 1 or doc.history.index == 0
    for index in range(len(doc.history) + 1):
        doc.goto(index)
        _check(doc, states)
