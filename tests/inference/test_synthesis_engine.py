"""The synthesis models through the engine: every photo kind, untouched pixels, guided stages, cancel."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from restorer.errors import Cancelled
from restorer.inference import engine


def _grainy(shape: tuple[int, ...], dtype: type, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    base = 0.45 + 0.2 * np.sin(xx / 29.0) * np.cos(yy / 17.0)
    chans = shape[2] if len(shape) == 3 else 1
    img = base[..., None] * np.array([1.0, 0.85, 0.7])[:chans] + rng.normal(0, 0.05, (h, w, chans))
    top = np.iinfo(dtype).max
    img = (np.clip(img, 0, 1) * top).astype(dtype)
    return img if len(shape) == 3 else img[..., 0]


def _detail(out: np.ndarray, ref: np.ndarray, hole: np.ndarray) -> float:
    inner = cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0

    def lap(a: np.ndarray) -> float:
        g = a.astype(np.float32).reshape(*a.shape[:2], -1).mean(axis=2)
        return float(cv2.Laplacian(g, cv2.CV_32F)[inner].std())

    return lap(out) / lap(ref)


@pytest.mark.parametrize("shape,dtype", [((160, 200, 3), np.uint8), ((160, 200), np.uint16), ((160, 200, 1), np.uint8)])
def test_patchmatch_fills_every_photo_kind_and_leaves_the_rest_alone(shape, dtype) -> None:
    img = _grainy(shape, dtype)
    mask = np.zeros(shape[:2], bool)
    mask[50:110, 60:130] = True
    out, result = engine.inpaint(img, mask, "patchmatch")
    assert out.dtype == img.dtype and out.shape == img.shape
    assert np.array_equal(out[~mask], img[~mask])
    assert not np.array_equal(out[mask], img[mask])
    assert result.patches


def test_synthesis_keeps_the_grain_that_diffusion_smooths_away() -> None:
    img = _grainy((160, 200, 3), np.uint8)
    mask = np.zeros(img.shape[:2], bool)
    mask[40:120, 50:150] = True
    pm, _ = engine.inpaint(img, mask, "patchmatch")
    telea, _ = engine.inpaint(img, mask, "telea")
    assert _detail(pm, img, mask) > 0.7
    assert _detail(telea, img, mask) < 0.4


def _messages(job: engine.Job) -> list[str]:
    gen = engine.run(job)
    out = []
    while True:
        try:
            out.append(next(gen).message)
        except StopIteration:
            return out


def test_guided_fill_runs_its_network_for_big_holes_only() -> None:
    img = _grainy((200, 240, 3), np.uint8)
    big = np.zeros(img.shape[:2], bool)
    big[60:140, 80:170] = True
    thin = np.zeros(img.shape[:2], bool)
    thin[100:103, 10:230] = True
    with_big = _messages(engine.plan(img, big, "guided-partialconv"))
    assert any(m.startswith("Filled") for m in with_big) and any(m.startswith("Texture") for m in with_big)
    with_thin = _messages(engine.plan(img, thin, "guided-partialconv"))
    assert not any(m.startswith("Filled") for m in with_thin) and any(m.startswith("Texture") for m in with_thin)
    out, _ = engine.inpaint(img, big | thin, "guided-partialconv")
    assert np.array_equal(out[~(big | thin)], img[~(big | thin)])
    assert _detail(out, img, big) > 0.6


def test_cancel_during_synthesis_returns_nothing() -> None:
    img = _grainy((200, 240, 3), np.uint8)
    mask = np.zeros(img.shape[:2], bool)
    mask[40:160, 60:200] = True
    cancel = threading.Event()
    gen = engine.run(engine.plan(img, mask, "patchmatch"), cancel)
    seen = []
    with pytest.raises(Cancelled):
        while True:
            p = next(gen)
            seen.append(p.message)
            if p.message.startswith("Texture"):
                cancel.set()
    assert any(m.startswith("Texture") for m in seen)


def test_the_default_spares_a_brushed_scratch_its_networks() -> None:
    # an 8-px brush line measures about 13 px thick: at most 16 follows Navier-Stokes, not the networks
    img = _grainy((200, 240, 3), np.uint8)
    line = np.zeros(img.shape[:2], np.uint8)
    cv2.line(line, (10, 20), (230, 180), 1, 8)
    scratch = line.astype(bool)
    messages = _messages(engine.plan(img, scratch, "guided-ensemble"))
    assert not any(m.startswith("Filled") for m in messages) and any(m.startswith("Texture") for m in messages)
    wide = np.zeros(img.shape[:2], np.uint8)
    cv2.line(wide, (10, 20), (230, 180), 1, 24)
    messages = _messages(engine.plan(img, wide.astype(bool), "guided-ensemble"))
    assert any(m.startswith("Filled") for m in messages)
