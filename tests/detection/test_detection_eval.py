"""The detection evaluation: the pixel-tolerance metric on constructed cases, the seeded protocol, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer.cli import main
from restorer.detection.evaluate import (
    CLEAN,
    ROWS,
    evaluate_detectors,
    make_pair,
    markdown_table,
    score,
)


def _line(offset: int = 0) -> np.ndarray:
    m = np.zeros((40, 40), bool)
    m[5:35, 20 + offset] = True  # a 1-px vertical line, 30 px long
    return m


def test_exact_hit_scores_one() -> None:
    s = score(_line(), _line())
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)


def test_two_px_offset_is_right_for_precision_but_finds_nothing() -> None:
    s = score(_line(2), _line())
    assert s.precision == 1.0  # within 3 px of true damage
    assert s.recall == 0.0  # no true pixel has a detection within 1 px
    assert score(_line(1), _line()).recall == 1.0


def test_five_px_offset_is_a_false_alarm() -> None:
    s = score(_line(5), _line())
    assert s.precision == 0.0 and s.recall == 0.0 and s.f1 == 0.0
    assert score(_line(3), _line()).precision == 1.0  # 3 px is the last that counts


def test_empty_prediction_has_recall_zero() -> None:
    s = score(np.zeros((40, 40), bool), _line())
    assert s.recall == 0.0 and s.f1 == 0.0 and s.detected == 0
    assert (score(_line(), _line()) + s).recall == 0.5  # scores add as pixel counts


class _Constant:
    """A detector that flags every pixel (level 1) or none (level 0)."""

    margin = 0
    kinds = ("scratches", "dust", "cracks")

    def __init__(self, level: float) -> None:
        self.level, self.name = level, f"constant-{level}"

    def __call__(self, gray: np.ndarray) -> dict[str, np.ndarray]:
        return {k: np.full(gray.shape, self.level if k == "dust" else 0.0, np.float32) for k in self.kinds}


def test_pairs_are_seeded_one_kind_each_and_clean_ones_undamaged(make_smooth_photo) -> None:
    photo = np.repeat(make_smooth_photo(0, 320, 480)[..., None], 3, 2)
    a, b = make_pair(photo, "dust", 3, 7), make_pair(photo, "dust", 3, 7)
    assert np.array_equal(a.pixels, b.pixels) and not np.array_equal(a.pixels, make_pair(photo, "dust", 3, 8).pixels)
    assert a.truth["dust"].any() and not a.truth["scratches"].any() and not a.truth["cracks"].any()
    hairs = make_pair(photo, "hairs", 0, 7)
    assert hairs.truth["cracks"].any() and not hairs.truth["dust"].any()  # hairs are scored as thin winding lines
    clean = make_pair(photo, CLEAN, 0, 7)
    assert not clean.any.any() and clean.pixels.shape == photo.shape and clean.pixels.dtype == photo.dtype


def test_protocol_scores_every_detector_on_the_same_pairs(make_smooth_photo) -> None:
    photos = [make_smooth_photo(s, 320, 480) for s in range(2)]
    result = evaluate_detectors({"none": _Constant(0.0), "all": _Constant(1.0)}, photos, pairs=2, seed=1)
    none, every = result["results"]["none"], result["results"]["all"]
    assert none["all"]["recall"] == 0.0 and none["clean"]["mean"] == 0.0 and none["clean"]["none_flagged"] == 2
    assert every["all"]["recall"] == 1.0 and every["clean"]["max"] == 1.0
    assert every["all"]["precision"] < 0.5  # flagging everything is mostly wrong
    for kind in ROWS:
        assert none["kinds"][kind]["damaged_px"] == every["kinds"][kind]["damaged_px"] > 0
    table = markdown_table(result)
    assert "| none |" in table and "1.00 / 0.00 / 0.00" in table and "100.000 % / 100.000 %" in table


def test_a_threshold_sweep_runs_each_detector_once_and_only_removes(make_smooth_photo) -> None:
    calls = []

    class Ramp(_Constant):
        def __call__(self, gray: np.ndarray) -> dict[str, np.ndarray]:
            calls.append(gray.shape)
            ramp = np.linspace(0, 1, gray.size, dtype=np.float32).reshape(gray.shape)
            return dict.fromkeys(self.kinds, ramp)

    photos = [make_smooth_photo(0, 320, 480)]
    result = evaluate_detectors({"ramp": Ramp(0.0)}, photos, pairs=1, seed=2, thresholds=(0.25, 0.75))
    assert len(calls) == len(ROWS) + 1  # one run per pair, scored at both thresholds
    low, high = result["results"]["ramp @ 0.25"], result["results"]["ramp @ 0.75"]
    assert low["threshold"] == 0.25 and high["detector"] == "ramp"
    assert high["all"]["detected_px"] < low["all"]["detected_px"]
    assert abs(low["clean"]["mean"] - 0.75) < 0.01 and abs(high["clean"]["mean"] - 0.25) < 0.01


def _photo_folder(tmp_path: Path, make_smooth_photo) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for s in range(2):
        Image.fromarray(make_smooth_photo(s, 150, 190)).save(folder / f"p{s}.png")
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_cli_writes_the_table_and_its_json(tmp_path: Path, make_smooth_photo, capsys) -> None:
    folder = _photo_folder(tmp_path, make_smooth_photo)
    out = tmp_path / "eval.md"
    code = main(["evaluate-detection", "--detector", "classical", "--photos", str(folder), "--pairs", "2",
                 "--seed", "3", "--out", str(out), "-q"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    text = out.read_text()
    assert "| classical |" in text and "--pairs 2 --seed 3" in text
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["protocol"]["photos"] == 2 and set(data["results"]) == {"classical"}
    assert 0.0 <= data["results"]["classical"]["all"]["f1"] <= 1.0


@pytest.mark.parametrize(("extra", "message"), [
    (["--pairs", "0"], "--pairs must be at least 1"),
    (["--detector", "nonesuch"], "unknown detector"),
    (["--threshold", "2"], "threshold must be between 0 and 1"),
    (["--threshold", "0.5,x"], "comma-separated"),
    (["--out", "table.txt"], "give a .md file name"),
])
def test_cli_bad_options_one_line_nothing_written(extra: list[str], message: str, tmp_path: Path,
                                                  make_smooth_photo, capsys) -> None:
    folder = _photo_folder(tmp_path, make_smooth_photo)
    argv = ["evaluate-detection", "--photos", str(folder), "--out", str(tmp_path / "e.md"), *extra]
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "e.md").exists()


def test_cli_missing_photo_folder(tmp_path: Path, capsys) -> None:
    code = main(["evaluate-detection", "--photos", str(tmp_path / "nowhere"), "--out", str(tmp_path / "e.md")])
    assert code != 0 and "does not exist" in capsys.readouterr().err


def test_cli_missing_output_folder_is_said_before_the_run(tmp_path: Path, make_smooth_photo, capsys, monkeypatch) -> None:
    from restorer.detection import evaluate

    folder = _photo_folder(tmp_path, make_smooth_photo)
    monkeypatch.setattr(evaluate, "evaluate_detectors", lambda *a, **k: pytest.fail("the evaluation ran"))
    code = main(["evaluate-detection", "--detector", "classical", "--photos", str(folder),
                 "--out", str(tmp_path / "nowhere" / "e.md")])
    err = capsys.readouterr().err
    assert code != 0 and "does not exist" in err and len(err.strip().splitlines()) == 1
