"""restorer-cli render and inpaint --project: a replay of a project's fills is bit-identical to the fills."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest

from restorer.cli import main
from restorer.core import provenance
from restorer.core.document import Document
from restorer.core.image import Photo, PhotoMeta, load_photo, save_photo
from restorer.core.maskfile import save_mask
from restorer.core.project import read_project, save_project
from restorer.inference import engine
from restorer.inference.replay import fill_meta


def _photo(h: int, w: int, c: int, dtype, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = [np.sin(xx / (5 + k)) * np.cos(yy / (9 + k)) * 0.35 + 0.5 for k in range(c)]
    noisy = np.stack(chans, -1) + rng.normal(0, 0.03, (h, w, c))
    return (np.clip(noisy, 0, 1) * top).round().astype(dtype)


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _fill(doc: Document, model: str, options: engine.EngineOptions) -> None:
    """A fill as the app makes it: plan and run on the live pixels, the step's meta from fill_meta."""
    mask = doc.mask.copy()
    meta = fill_meta(model, options, weights_sha256=None, device="", mask_sha256=provenance.mask_sha256(mask),
                     mask_pixels=int(mask.sum()), time=provenance.utc_now())
    job = engine.plan(doc.pixels, mask, model, options, revision=doc.revision)
    result = engine.run_blocking(job)
    doc.apply_fill(result.patches, f"Fill ({model})", meta={**meta, "device": result.device})


def _stroke(doc: Document, p0, p1, r: float) -> None:
    doc.begin_stroke()
    doc.paint(p0, p1, r)
    doc.commit_stroke()


@pytest.mark.parametrize("channels,dtype", [(3, np.uint16), (1, np.uint8)])
def test_render_of_a_project_equals_the_documents_pixels_exactly(tmp_path, capsys, channels, dtype):
    source = tmp_path / "scan.png"
    save_photo(Photo(_photo(72, 96, channels, dtype), None, PhotoMeta(format="PNG")), source)
    doc = Document(load_photo(source))
    _stroke(doc, (10, 10), (50, 14), 3)
    _fill(doc, "telea", engine.EngineOptions(threads=1, grain=True))
    _stroke(doc, (30, 40), (70, 60), 4)
    _stroke(doc, (60, 20), (64, 50), 2)
    area = np.zeros(doc.shape, bool)
    area[:, 60:] = True
    _fill(doc, "patchmatch", engine.EngineOptions(sample_area=area, sample_mode="allow"))
    _stroke(doc, (80, 5), (90, 30), 3)
    _fill(doc, "navier-stokes", engine.EngineOptions())
    _stroke(doc, (5, 60), (20, 66), 2)
    project = save_project(doc, tmp_path / "work.restorer")
    code, out, err = _run(["render", str(project), "-o", str(tmp_path / "render.tif")], capsys)
    assert code == 0, err
    assert "replayed 3 fills" in out
    rendered = load_photo(tmp_path / "render.tif").pixels
    assert rendered.dtype == dtype and np.array_equal(rendered, doc.pixels)
    side = json.loads((tmp_path / "render.tif.restorer.json").read_text())
    assert [s["model"] for s in side["steps"]] == ["telea", "patchmatch", "navier-stokes"]
    assert side["source"]["sha256"] == provenance.file_sha256(source)
    assert side["steps"][1]["mask_sha256"] == doc.history.steps[4].meta["mask_sha256"]
    # at an earlier position (the last fill undone) the render is the document there
    doc.goto(5)
    save_project(doc, project)
    code, _, err = _run(["render", str(project), "-o", str(tmp_path / "earlier.png")], capsys)
    assert code == 0, err
    assert np.array_equal(load_photo(tmp_path / "earlier.png").pixels, doc.pixels)
    assert not np.array_equal(doc.pixels, rendered)


def test_inpaint_project_renders_bit_identical_and_model_reruns_every_fill(tmp_path, capsys):
    source = tmp_path / "scan.tif"
    pixels = _photo(64, 80, 3, np.uint16, seed=3)
    save_photo(Photo(pixels, None, PhotoMeta(format="TIFF")), source)
    mask = np.zeros((64, 80), bool)
    mask[20:34, 18:50] = True
    save_mask(mask, tmp_path / "mask.png")
    out, project = tmp_path / "out.tif", tmp_path / "one.restorer"
    code, _, err = _run(["inpaint", str(source), "-m", str(tmp_path / "mask.png"), "-o", str(out),
                         "--model", "partialconv-compact", "--project", str(project)], capsys)
    assert code == 0, err
    data = read_project(project)
    assert [e.kind for e in data.steps] == ["fill"] and data.position == 1
    assert np.array_equal(data.fill_masks[0][1], mask[data.fill_masks[0][0].slices])
    assert data.steps[0].meta["weights_sha256"], "the learned model's weights are recorded"
    code, _, err = _run(["render", str(project), "-o", str(tmp_path / "again.tif")], capsys)
    assert code == 0, err
    filled = load_photo(out).pixels
    assert np.array_equal(load_photo(tmp_path / "again.tif").pixels, filled)
    code, _, err = _run(["render", str(project), "-o", str(tmp_path / "ns.tif"), "--model", "navier-stokes"], capsys)
    assert code == 0, err
    expected, _ = engine.inpaint(pixels, mask, "navier-stokes")
    other = load_photo(tmp_path / "ns.tif").pixels
    assert np.array_equal(other, expected) and not np.array_equal(other, filled)
    side = json.loads((tmp_path / "ns.tif.restorer.json").read_text())
    assert side["steps"][0]["model"] == "navier-stokes" and side["steps"][0]["recorded_model"] == "partialconv-compact"


def test_render_refuses_bad_input_with_one_line_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "scan.png"
    save_photo(Photo(_photo(40, 50, 3, np.uint8), None, PhotoMeta(format="PNG")), source)
    doc = Document(load_photo(source))
    _stroke(doc, (10, 10), (30, 12), 3)
    _fill(doc, "telea", engine.EngineOptions())
    project = save_project(doc, tmp_path / "p.restorer")
    out = tmp_path / "out.png"

    def fails(argv: list[str], match: str) -> None:
        code, _, err = _run(argv, capsys)
        assert code == 1 and match in err and err.count("\n") == 1, err
        assert not out.exists()

    moved = tmp_path / "moved.png"
    shutil.move(source, moved)
    fails(["render", str(project), "-o", str(out)], "missing")
    other = tmp_path / "other.png"
    save_photo(Photo(_photo(40, 50, 3, np.uint8, seed=5), None, PhotoMeta(format="PNG")), other)
    fails(["render", str(project), "-o", str(out), "--original", str(other)], "not the original")
    fails(["render", str(project), "-o", str(out), "--model", "no-such-model"], "no-such-model")
    code, _, err = _run(["render", str(project), "-o", str(out), "--original", str(moved)], capsys)
    assert code == 0, err
    assert np.array_equal(load_photo(out).pixels, doc.pixels)
    before = out.read_bytes()
    code, _, err = _run(["render", str(project), "-o", str(out), "--original", str(moved)], capsys)
    assert code == 1 and "already exists" in err and out.read_bytes() == before
    out.unlink()
    (tmp_path / "out.png.restorer.json").unlink()
    conn = sqlite3.connect(project)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    fails(["render", str(project), "-o", str(out)], "newer Restorer")
    project.write_bytes(project.read_bytes()[:1000])
    fails(["render", str(project), "-o", str(out)], "damaged")


def test_inpaint_project_refuses_an_existing_project_before_any_work(tmp_path, capsys):
    source = tmp_path / "scan.png"
    save_photo(Photo(_photo(40, 50, 3, np.uint8), None, PhotoMeta(format="PNG")), source)
    mask = np.zeros((40, 50), bool)
    mask[5:9, 5:30] = True
    save_mask(mask, tmp_path / "mask.png")
    (tmp_path / "p.restorer").write_bytes(b"keep me")
    code, _, err = _run(["inpaint", str(source), "-m", str(tmp_path / "mask.png"), "-o", str(tmp_path / "o.png"),
                         "--model", "telea", "--project", str(tmp_path / "p.restorer")], capsys)
    assert code == 1 and "already exists" in err
    assert (tmp_path / "p.restorer").read_bytes() == b"keep me" and not (tmp_path / "o.png").exists()
    code, _, err = _run(["inpaint", str(source), "-m", str(tmp_path / "mask.png"), "-o", str(tmp_path / "o.png"),
                         "--model", "telea", "--project", str(tmp_path / "p.txt")], capsys)
    assert code == 1 and "must end in .restorer" in err


def test_inpaint_project_embeds_the_original_so_render_works_without_it(tmp_path, capsys):
    source = tmp_path / "scan.png"
    save_photo(Photo(_photo(40, 50, 3, np.uint8, seed=4), None, PhotoMeta(format="PNG")), source)
    mask = np.zeros((40, 50), bool)
    mask[10:20, 10:30] = True
    save_mask(mask, tmp_path / "mask.png")
    base = ["inpaint", str(source), "-m", str(tmp_path / "mask.png"), "--model", "telea"]
    code, _, err = _run([*base, "-o", str(tmp_path / "o.png"), "--embed-original"], capsys)
    assert code == 1 and "--embed-original needs --project" in err and not (tmp_path / "o.png").exists()
    plain, embedded = tmp_path / "plain.restorer", tmp_path / "embedded.restorer"
    assert _run([*base, "-o", str(tmp_path / "a.png"), "--project", str(plain)], capsys)[0] == 0
    code, _, err = _run([*base, "-o", str(tmp_path / "b.png"), "--project", str(embedded), "--embed-original"], capsys)
    assert code == 0, err
    assert read_project(embedded).embedded and not read_project(plain).embedded
    assert embedded.stat().st_size >= plain.stat().st_size + source.stat().st_size // 2
    filled = load_photo(tmp_path / "b.png").pixels
    source.unlink()
    code, _, err = _run(["render", str(embedded), "-o", str(tmp_path / "again.png")], capsys)
    assert code == 0, err
    assert np.array_equal(load_photo(tmp_path / "again.png").pixels, filled)
    code, _, err = _run(["render", str(plain), "-o", str(tmp_path / "lost.png")], capsys)
    assert code == 1 and not (tmp_path / "lost.png").exists()
