"""The .restorer project: exact round trips of photo, mask and history; refusals of bad files and wrong originals."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from restorer.core import projectdb
from restorer.core.document import Document
from restorer.core.image import Photo, PhotoMeta, load_photo, save_photo
from restorer.core.mask import BBox
from restorer.core.project import (
    ProjectError,
    ProjectWriter,
    open_project,
    original_info,
    read_project,
    save_project,
    snapshot,
)
from restorer.errors import RestorerError


def _photo_file(tmp_path: Path, channels: int, dtype: type, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    pixels = rng.integers(0, top, (48, 64, channels), dtype=dtype, endpoint=True)
    path = tmp_path / f"photo-{channels}-{np.dtype(dtype).name}.png"
    save_photo(Photo(pixels, None, PhotoMeta(format="PNG")), path)
    return path


def _edit_a_lot(doc: Document, rng: np.random.Generator) -> None:
    """Strokes, mask operations and fills (each fill over the mask, as the engine's would be)."""
    c = doc.pixels.shape[2]
    top = np.iinfo(doc.pixels.dtype).max

    def fill(label: str) -> None:
        box = BBox(4, 6, 30, 40)
        patch = rng.integers(0, top, (box.height, box.width, c), dtype=doc.pixels.dtype, endpoint=True)
        guide = (BBox(10, 10, 14, 20), rng.random((4, 10)) > 0.5)
        doc.apply_fill([(box, patch)], label, meta={
            "model": "telea", "weights_sha256": None, "options": {"grain": False, "guide_mode": "replace"},
            "guide": guide, "device": "cpu", "notes": ["a note"], "mask_pixels": int(doc.mask.sum())})

    doc.begin_stroke()
    doc.paint((8, 8), (30, 20), 4)
    doc.commit_stroke()
    doc.begin_stroke(layer="guides")  # Edges mode's guide lines: steps of their own
    doc.paint((10, 10), (28, 18), 1)
    doc.commit_stroke()
    doc.begin_stroke(erase=True, layer="guides")
    doc.paint((12, 12), (14, 12), 2)
    doc.commit_stroke()
    fill("Fill (telea)")
    doc.begin_stroke()
    doc.paint((40, 30), (50, 40), 3)
    doc.commit_stroke()
    doc.grow_mask(2)
    doc.begin_stroke(erase=True)
    doc.paint((45, 35), (47, 36), 2)
    doc.commit_stroke()
    fill("Fill again")
    doc.begin_stroke()
    doc.paint((2, 40), (20, 44), 2)
    doc.commit_stroke()
    doc.undo()  # a redo step is part of the project too


def _same_states(a: Document, b: Document) -> None:
    assert len(a.history) == len(b.history) and a.history.index == b.history.index
    for k in [*range(len(a.history) + 1), a.history.index, len(a.history), 0]:
        a.goto(k)
        b.goto(k)
        assert np.array_equal(a.pixels, b.pixels), f"photo differs at state {k}"
        assert np.array_equal(a.mask, b.mask), f"mask differs at state {k}"
        assert np.array_equal(a.guides, b.guides) and np.array_equal(a.unguides, b.unguides), f"guides differ at {k}"
    a.undo(), b.undo()
    assert np.array_equal(a.pixels, b.pixels) and np.array_equal(a.mask, b.mask)
    a.redo(), b.redo()
    assert np.array_equal(a.pixels, b.pixels) and np.array_equal(a.mask, b.mask)


@pytest.mark.parametrize("channels,dtype", [(1, np.uint8), (3, np.uint8), (1, np.uint16), (3, np.uint16)])
def test_round_trip_restores_every_state_exactly(tmp_path, channels, dtype):
    source = _photo_file(tmp_path, channels, dtype)
    doc = Document(load_photo(source))
    _edit_a_lot(doc, np.random.default_rng(1))
    position, pixels, mask = doc.history.index, doc.pixels.copy(), doc.mask.copy()
    save_project(doc, tmp_path / "work.restorer")
    opened = open_project(tmp_path / "work.restorer")
    assert opened.pixels.dtype == dtype and opened.pixels.shape == pixels.shape
    assert opened.history.index == position and len(opened.history) == len(doc.history)
    assert np.array_equal(opened.pixels, pixels) and np.array_equal(opened.mask, mask)
    assert not opened.dirty and opened.photo.path == source.absolute()
    for a, b in zip(doc.history.steps, opened.history.steps):
        assert (a.label, a.kind) == (b.label, b.kind)
        assert [(p.target, p.box) for p in a.patches] == [(p.target, p.box) for p in b.patches]
    fill = opened.history.steps[3]
    assert fill.meta["model"] == "telea" and fill.meta["options"] == {"grain": False, "guide_mode": "replace"}
    assert fill.meta["notes"] == ["a note"] and fill.meta["guide"][0] == BBox(10, 10, 14, 20)
    assert np.array_equal(fill.meta["guide"][1], doc.history.steps[3].meta["guide"][1])
    _same_states(doc, opened)


def test_the_fills_mask_and_the_original_are_recorded(tmp_path):
    source = _photo_file(tmp_path, 3, np.uint8)
    doc = Document(load_photo(source))
    _edit_a_lot(doc, np.random.default_rng(2))
    save_project(doc, tmp_path / "p.restorer")
    data = read_project(tmp_path / "p.restorer")
    info = original_info(source)
    assert data.original.sha256 == info.sha256 and data.original.size == source.stat().st_size
    assert data.original.path == source.absolute() and not data.embedded and data.base_photo is None
    kinds = [e.kind for e in data.steps]
    assert [m is not None for m in data.fill_masks] == [k == "fill" for k in kinds]
    box, filled = data.fill_masks[3]
    mask_before_fill = doc.region_at(3, BBox.full(doc.shape), "mask")
    assert filled.any() and np.array_equal(filled, mask_before_fill[box.slices])
    assert not mask_before_fill[~np.pad(np.ones(filled.shape, bool), ((box.y0, 48 - box.y1), (box.x0, 64 - box.x1)))].any()


def test_saving_a_project_twice_replaces_it_whole_and_leaves_no_temp_files(tmp_path, monkeypatch):
    source = _photo_file(tmp_path, 3, np.uint8)
    doc = Document(load_photo(source))
    _edit_a_lot(doc, np.random.default_rng(3))
    target = tmp_path / "p.restorer"
    save_project(doc, target)
    before = target.read_bytes()

    def broken(self, snap, info):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(ProjectWriter, "sync", broken)
    doc.invert_mask()
    with pytest.raises(ProjectError, match="cannot save"):
        save_project(doc, target)
    assert target.read_bytes() == before, "a failed save must leave the old project as it was"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, "p.restorer"])
    monkeypatch.undo()
    save_project(doc, target)
    assert open_project(target).history.steps[-1].label == "Invert mask"
    assert not list(tmp_path.glob("*-wal")) and not list(tmp_path.glob("*-shm")), "a saved project is one file"


def test_newer_schema_is_refused_with_one_clear_message(tmp_path):
    doc = Document(load_photo(_photo_file(tmp_path, 3, np.uint8)))
    _edit_a_lot(doc, np.random.default_rng(4))
    path = save_project(doc, tmp_path / "p.restorer")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {projectdb.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(ProjectError, match=r"newer Restorer \(project schema 2.*update Restorer") as exc:
        open_project(path)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("fraction", [0.97, 0.8, 0.5, 0.2, 0.01, 0.0])
def test_truncated_project_is_refused(tmp_path, fraction):
    doc = Document(load_photo(_photo_file(tmp_path, 3, np.uint16)))
    _edit_a_lot(doc, np.random.default_rng(5))
    path = save_project(doc, tmp_path / "p.restorer")
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(int(size * fraction))
    with pytest.raises(ProjectError) as exc:
        open_project(path)
    assert str(exc.value).startswith(str(path)) and "\n" not in str(exc.value)


def test_a_damaged_patch_or_a_foreign_database_is_refused(tmp_path):
    doc = Document(load_photo(_photo_file(tmp_path, 3, np.uint8)))
    _edit_a_lot(doc, np.random.default_rng(6))
    path = save_project(doc, tmp_path / "p.restorer")
    conn = sqlite3.connect(path)
    blob = bytearray(conn.execute("SELECT after FROM patches WHERE target = 'photo' LIMIT 1").fetchone()[0])
    blob[len(blob) // 2] ^= 0xFF
    conn.execute("UPDATE patches SET after = ? WHERE target = 'photo' AND ord = 0", (bytes(blob),))
    conn.commit()
    conn.close()
    with pytest.raises(ProjectError, match="damaged"):
        open_project(path)
    other = tmp_path / "other.restorer"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(ProjectError, match="not a Restorer project"):
        open_project(other)
    (tmp_path / "noise.restorer").write_bytes(os.urandom(4096))
    with pytest.raises(ProjectError, match="not a Restorer project"):
        open_project(tmp_path / "noise.restorer")
    with pytest.raises(ProjectError, match="no such project"):
        open_project(tmp_path / "missing.restorer")


def test_a_changed_or_moved_original_is_refused_unless_the_right_file_is_given(tmp_path):
    source = _photo_file(tmp_path, 3, np.uint8)
    doc = Document(load_photo(source))
    _edit_a_lot(doc, np.random.default_rng(7))
    path = save_project(doc, tmp_path / "p.restorer")
    moved = tmp_path / "moved.png"
    shutil.move(source, moved)
    with pytest.raises(ProjectError, match="missing"):
        open_project(path)
    (tmp_path / "other").mkdir()
    wrong = _photo_file(tmp_path / "other", 3, np.uint8, seed=9)
    asked = []

    def give(path_to_give):
        def find(info, problem):
            asked.append((info, problem))
            return path_to_give
        return find

    with pytest.raises(ProjectError, match="not the original of this project"):
        open_project(path, find_original=give(wrong))
    assert asked[0][0].path == source.absolute() and "missing" in asked[0][1]
    opened = open_project(path, find_original=give(moved))
    assert opened.photo.path == moved and np.array_equal(opened.pixels, doc.pixels)
    # back in its place but changed (one pixel): the size or the sha256 tells
    pixels = load_photo(moved).pixels.copy()
    pixels[0, 0, 0] ^= 1
    save_photo(Photo(pixels, None, PhotoMeta(format="PNG")), source, replace=True)
    with pytest.raises(ProjectError, match="not the original"):
        open_project(path)


def test_an_embedded_original_opens_when_the_file_is_gone(tmp_path):
    source = _photo_file(tmp_path, 1, np.uint16)
    doc = Document(load_photo(source))
    _edit_a_lot(doc, np.random.default_rng(8))
    path = save_project(doc, tmp_path / "p.restorer", embed_original=True)
    source.unlink()
    opened = open_project(path)
    assert opened.photo.path is None and np.array_equal(opened.pixels, doc.pixels)
    _same_states(doc, opened)


def test_a_photo_without_a_file_and_a_history_that_dropped_steps_keep_their_first_state(tmp_path):
    rng = np.random.default_rng(10)
    pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    doc = Document(Photo(pixels.copy(), None, PhotoMeta(format="")), byte_budget=12000)
    _edit_a_lot(doc, rng)
    assert doc.history.dropped > 0 and doc.history.has_dropped("photo")
    opened = open_project(save_project(doc, tmp_path / "p.restorer"))
    assert opened.history.dropped == doc.history.dropped and opened.history.has_dropped("photo")
    _same_states(doc, opened)


def test_the_writer_keeps_a_project_in_step_with_every_change(tmp_path):
    source = _photo_file(tmp_path, 3, np.uint8)
    doc = Document(load_photo(source))
    info = original_info(source)
    writer = ProjectWriter(tmp_path / "live.restorer", software="Restorer", version="test", written="now")
    rng = np.random.default_rng(11)
    try:
        for step in range(6):
            doc.begin_stroke()
            doc.paint((5 + 7 * step, 5), (5 + 7 * step, 40), 2)
            doc.commit_stroke()
            if step == 3:
                doc.undo()
                doc.undo()  # the next stroke replaces two redo steps
            writer.sync(snapshot(doc), info)
            opened = open_project(tmp_path / "live.restorer")
            _same_states(doc, opened)
        _edit_a_lot(doc, rng)
        writer.sync(snapshot(doc), info)
        _same_states(doc, open_project(tmp_path / "live.restorer"))
        count = sqlite3.connect(tmp_path / "live.restorer").execute("SELECT count(*) FROM steps").fetchone()[0]
        assert count == len(doc.history), "replaced redo steps are deleted from the file"
    finally:
        writer.close()


def test_refuses_a_name_without_the_suffix_or_the_original_itself(tmp_path):
    source = _photo_file(tmp_path, 3, np.uint8)
    doc = Document(load_photo(source))
    with pytest.raises(RestorerError, match=r"must end in \.restorer"):
        save_project(doc, tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()
