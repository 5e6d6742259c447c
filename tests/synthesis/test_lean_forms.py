"""The memory-lean forms of synthesis steps give exactly the values of their plain forms."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restorer.synthesis import compose as C
from restorer.synthesis import kernels
from restorer.synthesis.completion import _lows_into, _pad, _pad_into


@pytest.mark.parametrize("shape", [(9, 11, 3), (20, 6, 2), (3, 30, 1), (2, 2, 4)])
def test_pad_into_fills_the_border_as_pad_would(shape: tuple[int, int, int]) -> None:
    r = 3
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    out = np.full((shape[0] + 2 * r, shape[1] + 2 * r, shape[2]), np.nan, np.float32)
    out[r:-r, r:-r] = x
    _pad_into(out, r)
    np.testing.assert_array_equal(out, _pad(x, r))


def test_nonzero_coords_are_argwhere_in_int32() -> None:
    mask = np.random.default_rng(1).random((37, 41)) > 0.7
    got = kernels.nonzero_coords(mask, 3)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.argwhere(mask) + 3)
    assert kernels.nonzero_coords(np.zeros((4, 5), bool), 0).shape == (0, 2)


def _plain_compose(filled, image, hole, guide, lows, gain, guide_colour, texture_colour, scale):
    """compose as a plain expression (how it was written before it worked in place)."""
    def blur(x, s):
        return cv2.GaussianBlur(x, (0, 0), s).reshape(x.shape)

    def bright(x):
        return x if x.shape[2] != 3 else np.repeat((x @ C.LUMA)[..., None], 3, axis=2)

    sigma = lows * max(1.0, scale)
    low = blur(np.where(hole[..., None], guide, image).astype(np.float32), sigma)
    own = blur(filled, sigma)
    detail = filled - own
    if not texture_colour:
        detail = bright(detail)
    delta = low - own
    if not guide_colour and delta.shape[2] == 3:
        delta = np.repeat(delta.mean(axis=2, keepdims=True), 3, axis=2)
    out = own + delta + gain * detail
    if not texture_colour and not guide_colour and out.shape[2] == 3:
        base = blur(filled, C.CHROMA_SCALE * sigma)
        out = base + (bright(out) - bright(base))
    return out


@pytest.mark.parametrize("chans", [3, 1])
@pytest.mark.parametrize("guide_colour", [True, False])
@pytest.mark.parametrize("texture_colour", [True, False])
def test_compose_in_place_equals_the_plain_expression(chans: int, guide_colour: bool, texture_colour: bool) -> None:
    rng = np.random.default_rng(2)
    filled, image, guide = (rng.random((40, 50, chans), dtype=np.float32) for _ in range(3))
    hole = rng.random((40, 50)) > 0.5
    kw = {"lows": 0.7, "gain": 1.3, "guide_colour": guide_colour, "texture_colour": texture_colour}
    got = C.compose(filled, image, hole, guide, guide_scale=1.7, **kw)
    want = _plain_compose(filled, image, hole, guide, scale=1.7, **kw)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("chans", [3, 1])
def test_guide_lows_in_bands_equal_one_blur_of_the_whole(chans: int) -> None:
    rng = np.random.default_rng(3)
    image, guide = (rng.random((300, 70, chans), dtype=np.float32) for _ in range(2))
    hole = rng.random((300, 70)) > 0.6
    want = cv2.GaussianBlur(np.where(hole[..., None], guide, image), (0, 0), 1.5).reshape(image.shape) * np.float32(2.0)
    got = np.empty_like(image)
    _lows_into(got, image, guide, hole, 1.5, 2.0, band=32)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("guided", [True, False])
def test_an_owned_image_gives_the_same_fill_and_a_lent_one_is_left_alone(guided: bool) -> None:
    from restorer.synthesis.completion import Settings, complete_blocking

    rng = np.random.default_rng(4)
    image = cv2.GaussianBlur(rng.random((90, 110, 3), dtype=np.float32), (0, 0), 2.0)
    hole = np.zeros((90, 110), bool)
    hole[30:70, 40:80] = True
    guide = cv2.GaussianBlur(image, (0, 0), 5.0) if guided else None
    settings = Settings(lows=0.7, gain=1.3) if guided else Settings()
    lent = image.copy()
    want = complete_blocking(lent, hole, guide=guide, settings=settings)
    np.testing.assert_array_equal(lent, image)  # not owned: not touched
    got = complete_blocking(image.copy(), hole, guide=guide, settings=settings, owned=True)
    np.testing.assert_array_equal(got, want)
