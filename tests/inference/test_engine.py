"""Engine invariants: dtype/mode round trips, untouched pixels, packing, scale, cancel, OOM fallback, edges."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from inference_fakes import FILL, fake_model

from restorer.errors import Cancelled, MaskError
from restorer.inference import engine
from restorer.inference.engine import EngineOptions
from restorer.inference.runner import NOTE_CPU, NOTE_SMALLER
from restorer.models import device as devices


def _photo(shape: tuple[int, ...], dtype: type, seed: int = 0) -> np.ndarray:
    """A smooth gradient with noise, so fills have real structure around them."""
    rng = np.random.default_rng(seed)
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    base = (np.sin(xx / 37.0) + np.cos(yy / 23.0) + 2) / 4
    top = np.iinfo(dtype).max
    img = base[..., None] * np.array([1.0, 0.8, 0.6])[: (shape[2] if len(shape) == 3 else 1)]
    img = np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1) * top
    img = img.astype(dtype)
    return img if len(shape) == 3 else img[..., 0]


def _specks(shape: tuple[int, int], n: int, radius: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, bool)
    yy, xx = np.ogrid[-radius:radius + 1, -radius:radius + 1]
    disc = yy * yy + xx * xx <= radius * radius
    for y, x in zip(rng.integers(radius, shape[0] - radius, n), rng.integers(radius, shape[1] - radius, n)):
        mask[y - radius:y + radius + 1, x - radius:x + radius + 1] |= disc
    return mask


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(120, 160), (120, 160, 1), (120, 160, 3)])
@pytest.mark.parametrize("model", ["telea", "navier-stokes"])
def test_dtype_and_mode_round_trip_with_untouched_pixels(dtype: type, shape: tuple[int, ...], model: str) -> None:
    pixels = _photo(shape, dtype)
    mask = np.zeros(shape[:2], bool)
    mask[30:50, 20:140] = True  # a scratch
    mask[90:95, 10:15] = True  # a speck
    before = pixels.copy()
    out, result = engine.inpaint(pixels, mask, model)
    assert out.shape == pixels.shape and out.dtype == pixels.dtype
    assert np.array_equal(out[~mask], pixels[~mask])
    assert np.array_equal(pixels, before)  # the input is never written to
    assert not np.array_equal(out[mask], pixels[mask])
    assert result.device == "cpu" and result.notes == []
    # the fill continues the surroundings (a smooth gradient), not black or white
    err = np.abs(out[mask].astype(float) - pixels[mask].astype(float)).mean() / np.iinfo(dtype).max
    assert err < 0.1


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_fake_fill_lands_inside_the_hole_only(dtype: type) -> None:
    pixels = _photo((200, 240, 3), dtype)
    mask = np.zeros((200, 240), bool)
    mask[50:150, 60:160] = True
    with fake_model(work_size=256) as (name, log):
        out, result = engine.inpaint(pixels, mask, name)
    assert log.calls == 1
    assert np.array_equal(out[~mask], pixels[~mask])
    top = np.iinfo(dtype).max
    core = out[70:130, 80:140].astype(float) / top  # far from the rim: feathering does not reach it
    assert np.allclose(core, FILL, atol=1.0 / top)


def test_feathering_softens_the_rim_and_leaves_the_rest_alone() -> None:
    pixels = np.full((200, 200, 3), 200, np.uint8)
    mask = np.zeros((200, 200), bool)
    mask[60:140, 60:140] = True
    with fake_model() as (name, _):
        hard, _ = engine.inpaint(pixels, mask, name, EngineOptions(feather=False))
        soft, _ = engine.inpaint(pixels, mask, name)
    assert np.array_equal(soft[~mask], pixels[~mask])
    assert hard[60, 100, 0] == round(FILL * 255)
    assert abs(int(soft[60, 100, 0]) - 200) < 20  # the rim meets its neighbours
    assert soft[100, 100, 0] == round(FILL * 255)  # the middle is the model's


def test_gray_photo_goes_through_three_channels_and_back() -> None:
    pixels = _photo((100, 100), np.uint16)
    mask = np.zeros((100, 100), bool)
    mask[40:60, 40:60] = True
    with fake_model() as (name, log):
        out, _ = engine.inpaint(pixels, mask, name)
    assert log.shapes[0][1] == 3
    assert out.ndim == 2 and out.dtype == np.uint16
    assert out[50, 50] == round(FILL * 65535)


def test_many_specks_share_few_model_calls() -> None:
    shape = (1500, 2000)
    pixels = _photo((*shape, 3), np.uint8)
    mask = _specks(shape, 200, radius=4)
    with fake_model(work_size=256) as (name, log):
        out, result = engine.inpaint(pixels, mask, name, EngineOptions(feather=False))
    assert log.calls <= 8
    assert np.array_equal(out[~mask], pixels[~mask])
    assert np.all(out[mask] == round(FILL * 255))  # every speck was filled
    # the packed crops are small: far fewer pixels go through the model than the photo holds
    fed = sum(n * h * w for n, _, h, w in log.shapes)
    assert fed < 0.5 * shape[0] * shape[1]


def test_without_packing_each_speck_is_its_own_call() -> None:
    shape = (600, 800)
    pixels = _photo((*shape, 3), np.uint8)
    mask = _specks(shape, 20, radius=3, seed=5)
    with fake_model(work_size=256) as (name, log):
        job = engine.plan(pixels, mask, name, EngineOptions(pack=False))
        engine.inpaint(pixels, mask, name, EngineOptions(pack=False))
    assert log.calls == len(job.regions) > 5


def test_large_hole_runs_at_reduced_resolution_in_one_pass() -> None:
    shape = (1200, 1000)
    pixels = _photo((*shape, 3), np.uint8)
    mask = np.zeros(shape, bool)
    mask[250:950, 200:800] = True  # 35 % of the photo, far bigger than the model's 128 px
    with fake_model(work_size=128, pad_multiple=8) as (name, log):
        job = engine.plan(pixels, mask, name)
        out, _ = engine.inpaint(pixels, mask, name)
    assert len(job.regions) == 1 and job.regions[0].scale < 0.25
    assert log.calls == 1
    assert max(log.shapes[0][2:]) <= 1.5 * 128 + 8
    assert np.array_equal(out[~mask], pixels[~mask])
    core = out[350:850, 300:700].astype(int)
    assert np.abs(core - round(FILL * 255)).max() <= 1  # no tile seams or holes left in the middle


def test_long_thin_scratch_is_tiled_at_full_resolution() -> None:
    shape = (300, 3000)
    pixels = _photo((*shape, 3), np.uint8)
    mask = np.zeros(shape, bool)
    mask[148:153, 20:2980] = True
    with fake_model(work_size=128, pad_multiple=8) as (name, log):
        job = engine.plan(pixels, mask, name)
        out, _ = engine.inpaint(pixels, mask, name, EngineOptions(feather=False))
    region = job.regions[0]
    assert region.scale == 1.0 and len(region.tiles) > 10
    assert log.calls < len(region.tiles)  # equal tiles share batches
    assert np.array_equal(out[~mask], pixels[~mask])
    assert np.all(out[mask] == round(FILL * 255))  # blended tiles leave no gap


def test_cancel_stops_between_crops() -> None:
    shape = (800, 1200)
    pixels = _photo((*shape, 3), np.uint8)
    mask = _specks(shape, 12, radius=5, seed=3)
    cancel = threading.Event()
    seen: list[engine.Progress] = []

    def on_progress(p: engine.Progress) -> None:
        seen.append(p)
        if p.done >= 1:
            cancel.set()

    options = EngineOptions(pack=False)
    with fake_model() as (name, log):
        total = len(engine.plan(pixels, mask, name, options).regions)
        with pytest.raises(Cancelled):
            engine.inpaint(pixels, mask, name, options, cancel=cancel, on_progress=on_progress)
    assert log.calls == 1 < total
    assert seen[-1].total == total


def test_out_of_memory_retries_smaller_then_finishes_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "resolve_device", lambda preference="auto": "cuda")
    pixels = _photo((300, 400, 3), np.uint8)
    mask = _specks((300, 400), 6, radius=6, seed=2)
    mask[100:200, 100:300] = True
    with fake_model(oom_on="cuda") as (name, log):
        out, result = engine.inpaint(pixels, mask, name, EngineOptions(device="cuda", feather=False))
    assert result.device == "cpu"
    assert NOTE_CPU in result.notes and NOTE_SMALLER in result.notes
    assert set(log.devices) == {"cpu"}
    assert np.array_equal(out[~mask], pixels[~mask])
    assert np.all(out[mask] == round(FILL * 255))


def test_job_owns_copies_of_its_crops() -> None:
    pixels = _photo((400, 600, 3), np.uint16)
    mask = np.zeros((400, 600), bool)
    mask[100:130, 100:140] = True
    job = engine.plan(pixels, mask, "telea")
    assert job.nbytes < pixels.nbytes / 4  # only the crop, not the photo
    expected, _ = engine.inpaint(pixels, mask, "telea")
    original = pixels.copy()
    pixels[:] = 0  # the document changes while the job runs
    mask[:] = False
    result = engine.run_blocking(job)
    assert np.array_equal(engine.apply(original, result), expected)


def test_guide_edges_reach_the_model_and_come_back() -> None:
    pixels = _photo((200, 200, 3), np.uint8)
    mask = np.zeros((200, 200), bool)
    mask[60:140, 60:140] = True
    guide = np.zeros((200, 200), bool)
    guide[100, 70:130] = True  # a horizontal line through the hole
    guide[10, 10:50] = True  # outside the hole: ignored
    with fake_model(edges=True) as (name, log):
        _, result = engine.inpaint(pixels, mask, name, EngineOptions(guide_edges=guide))
        edges = engine.predict_edges(pixels, mask, name, EngineOptions(guide_edges=guide))
    sent = log.edges[0]
    assert sent is not None and sent.sum() >= 60 and sent.sum() < 70
    (box, emap), = result.edges
    full = np.zeros((200, 200), np.float32)
    full[box.slices] = emap
    assert np.array_equal(full > 0.5, guide & mask)
    (box2, emap2), = edges
    assert box2 == box and np.array_equal(emap2, emap)


def test_models_without_edges_ignore_guides() -> None:
    pixels = _photo((100, 100, 3), np.uint8)
    mask = np.zeros((100, 100), bool)
    mask[40:60, 40:60] = True
    guide = mask.copy()
    out, result = engine.inpaint(pixels, mask, "telea", EngineOptions(guide_edges=guide))
    assert result.edges == [] and np.array_equal(out[~mask], pixels[~mask])
    assert engine.predict_edges(pixels, mask, "telea") == []
    with fake_model() as (name, log):
        engine.inpaint(pixels, mask, name, EngineOptions(guide_edges=guide))
    assert log.edges == [None]


def test_empty_mask_and_bad_inputs() -> None:
    pixels = _photo((50, 60, 3), np.uint8)
    out, result = engine.inpaint(pixels, np.zeros((50, 60), bool), "telea")
    assert np.array_equal(out, pixels) and result.patches == []
    with pytest.raises(MaskError):
        engine.plan(pixels, np.zeros((60, 50), bool), "telea")
    with pytest.raises(MaskError):
        engine.plan(pixels, np.zeros((50, 60), bool), "telea", EngineOptions(guide_edges=np.zeros((5, 5), bool)))


def test_hole_touching_the_border_and_a_tiny_photo() -> None:
    pixels = _photo((20, 30, 3), np.uint8)
    mask = np.zeros((20, 30), bool)
    mask[0:5, 0:30] = True
    with fake_model(pad_multiple=16) as (name, log):
        out, _ = engine.inpaint(pixels, mask, name)
    assert log.shapes[0][2] % 16 == 0 and log.shapes[0][3] % 16 == 0
    assert np.array_equal(out[~mask], pixels[~mask])


@pytest.mark.parametrize("model", ["telea", "navier-stokes"])
def test_classical_crops_fill_exactly_as_the_whole_photo_would(model: str) -> None:
    """Classical models read only `radius` px of context, so small crops must not change the fill."""
    from restorer.inference.paste import from_float3, to_float3
    from restorer.models import registry

    pixels = _photo((300, 400, 3), np.uint16)
    mask = _specks((300, 400), 15, radius=4, seed=7)
    mask[200:215, 30:370] = True
    out, result = engine.inpaint(pixels, mask, model)
    assert len(result.patches) > 5
    whole = registry.load(model)(to_float3(pixels).transpose(2, 0, 1)[None], mask[None, None].astype(np.float32))
    expected = from_float3(whole[0].transpose(1, 2, 0), pixels)
    assert np.array_equal(out, np.where(mask[..., None], expected, pixels))


def test_out_of_memory_with_a_coarse_pad_multiple_still_ends_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Halving stops once the tile cannot shrink (pad multiple 128), instead of recursing forever."""
    monkeypatch.setattr(devices, "resolve_device", lambda preference="auto": "cuda")
    pixels = _photo((300, 300, 3), np.uint8)
    mask = np.zeros((300, 300), bool)
    mask[100:200, 100:200] = True
    with fake_model(oom_on="cuda", pad_multiple=128) as (name, log):
        out, result = engine.inpaint(pixels, mask, name, EngineOptions(device="cuda"))
    assert result.device == "cpu" and NOTE_CPU in result.notes
    assert all(h % 128 == 0 and w % 128 == 0 for _, _, h, w in log.shapes)
    assert np.array_equal(out[~mask], pixels[~mask])


def test_apply_in_place_fills_the_given_array() -> None:
    pixels = _photo((80, 90, 3), np.uint8)
    mask = np.zeros((80, 90), bool)
    mask[30:40, 30:50] = True
    copy, _ = engine.inpaint(pixels.copy(), mask, "telea")
    same, _ = engine.inpaint(pixels, mask, "telea", inplace=True)
    assert same is pixels and np.array_equal(pixels, copy)


def test_a_job_cancelled_before_or_during_its_last_call_returns_nothing() -> None:
    pixels = _photo((100, 100, 3), np.uint8)
    mask = np.zeros((100, 100), bool)
    mask[40:60, 40:60] = True
    cancel = threading.Event()
    with fake_model() as (name, log):
        job = engine.plan(pixels, mask, name)
        cancel.set()
        with pytest.raises(Cancelled):
            engine.run_blocking(job, cancel)
        assert log.calls == 0
        cancel.clear()
        with pytest.raises(Cancelled):  # one crop: cancelled while it ran
            engine.run_blocking(job, cancel, lambda p: cancel.set() if p.done == 1 else None)
        assert log.calls == 1


def test_small_crops_share_an_atlas_when_the_size_multiple_is_coarse() -> None:
    """PConv pads to multiples of 128: specks' 80-pixel crops sit side by side instead of 128 each."""
    shape = (1500, 2000)
    pixels = _photo((*shape, 3), np.uint8)
    mask = _specks(shape, 200, radius=4)
    with fake_model(work_size=256, pad_multiple=128) as (name, log):
        job = engine.plan(pixels, mask, name)
        out, _ = engine.inpaint(pixels, mask, name, EngineOptions(feather=False))
    fed = sum(n * h * w for n, _, h, w in log.shapes)
    padded_alone = sum(128 * 128 * len(r.tiles) for r in job.regions)  # what one crop per input would cost
    assert fed < 0.75 * padded_alone
    assert all(h % 128 == 0 and w % 128 == 0 for _, _, h, w in log.shapes)
    assert np.array_equal(out[~mask], pixels[~mask])
    assert np.all(out[mask] == round(FILL * 255))  # every speck got its own fill back from its cell


def test_loading_is_said_only_when_the_model_is_not_loaded_yet() -> None:
    pixels = _photo((80, 100, 3), np.uint8)
    mask = _specks((80, 100), 2, radius=3)

    def first_message() -> str:
        seen: list[engine.Progress] = []
        engine.inpaint(pixels, mask, "telea", EngineOptions(), on_progress=seen.append)
        return seen[0].message

    engine.clear_cache()
    assert first_message() == "Loading telea"
    assert first_message() == "Filling"  # the cached model: nothing is loaded
    engine.clear_cache()
    assert first_message() == "Loading telea"


def test_feather_px_sets_how_far_the_rim_fades() -> None:
    pixels = np.full((200, 200, 3), 200, np.uint8)
    mask = np.zeros((200, 200), bool)
    mask[60:140, 60:140] = True
    fill = round(FILL * 255)
    with fake_model() as (name, _):
        narrow, _ = engine.inpaint(pixels, mask, name, EngineOptions(feather_px=4))
        wide, _ = engine.inpaint(pixels, mask, name, EngineOptions(feather_px=30))
        off, _ = engine.inpaint(pixels, mask, name, EngineOptions(feather_px=0))
    assert np.array_equal(narrow[~mask], pixels[~mask]) and np.array_equal(wide[~mask], pixels[~mask])
    assert narrow[75, 100, 0] == fill  # 15 px in: past a 4 px fade
    assert abs(int(wide[75, 100, 0]) - fill) > 10  # still fading at 30 px
    assert off[60, 100, 0] == fill  # 0 px: no fade at all
