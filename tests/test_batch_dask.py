"""restorer-cli batch --dask: the sequential batch's outputs and record from a Dask cluster, resume,
failures recorded, a worker killed mid-batch losing no photo, one model load per worker."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer.cli import main
from restorer.cli_batch import INFLIGHT_NAME, RECORD_NAME

from tests.test_cli_batch import _log, _run

distributed = pytest.importorskip("distributed", reason="restorer[cluster] (Dask's distributed) is in the test extra")
cloudpickle = pytest.importorskip("cloudpickle")
dask = pytest.importorskip("dask")

EPOCH = "1700000000"  # pins the XMP and sidecar times, so two runs can be compared byte for byte
NAMES = "abcdef"
# What differs between two runs of one batch however it ran: when each photo was done and how long it took.
VARYING = ("time", "seconds")

# The functions below that run on the workers (client.run) travel by value: workers cannot import tests/.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _photo(path: Path, seed: int, h: int = 40, w: int = 56) -> Path:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    px = np.stack([(xx * 5) % 256, (yy * 7) % 256, (xx + yy) % 256], -1) + rng.integers(0, 20, (h, w, 3))
    Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(path)
    return path


def _mask(path: Path, seed: int, h: int = 40, w: int = 56) -> Path:
    m = np.zeros((h, w), np.uint8)
    m[h // 4 + seed : h // 2 + seed, w // 4 : w // 2 + seed] = 255
    Image.fromarray(m).save(path)
    return path


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes for the tests that talk to a running scheduler (tcp://...), as on a real cluster."""
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH  # the workers are spawned with it
    # --dask local:N's settings (without them this process's environment would be given Dask's
    # MALLOC_TRIM_THRESHOLD_ for every later cluster), and a photo that kills its worker is tried on
    # one more (the default is 3 more: slower to test)
    from restorer.cli_batch_dask import LOCAL_SETTINGS

    with dask.config.set({**LOCAL_SETTINGS, "distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                                  silence_logs=logging.ERROR) as local, distributed.Client(local) as client:
        yield client
    if old is None:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
    else:
        os.environ["SOURCE_DATE_EPOCH"] = old


@pytest.fixture()
def folders(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    src, masks = tmp_path / "in", tmp_path / "masks"
    src.mkdir(), masks.mkdir()
    for i, name in enumerate(NAMES):
        _photo(src / f"{name}.png", i)
        _mask(masks / f"{name}_mask.png", i)
    return src, masks


def _batch(src: Path, masks: Path, out: Path, *extra: str) -> list[str]:
    return [str(a) for a in ("batch", src, "-m", masks, "-o", out, "--model", "telea", "-q", *extra)]


def _files(out: Path) -> dict[str, bytes]:
    """Every file the batch wrote but its record: outputs and sidecars."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != RECORD_NAME}


def _lines(records: list[dict]) -> list[dict]:
    """The record modulo times and order."""
    return sorted(({k: v for k, v in r.items() if k not in VARYING} for r in records), key=lambda r: r["source"])


def _reference(src: Path, masks: Path, out: Path, capsys) -> tuple[dict[str, bytes], list[dict]]:
    """The sequential batch into ``out``, moved aside so a cluster run can write the same paths."""
    code, _, err = _run(_batch(src, masks, out), capsys)
    assert code == 0, err
    files, records = _files(out), _log(out)
    out.rename(out.with_name(out.name + "-sequential"))
    return files, records


def test_local_cluster_gives_the_sequential_outputs_and_record(folders, tmp_path: Path, capsys) -> None:
    src, masks = folders
    out = tmp_path / "out"
    (masks / "f_mask.png").unlink()  # f: no mask, skipped
    files, records = _reference(src, masks, out, capsys)
    code, stdout, err = _run(_batch(src, masks, out, "--dask", "local:2"), capsys)
    assert code == 0, err
    assert "5 restored, 0 failed, 1 skipped" in stdout and "f.png: no mask" in err
    # the same bytes, sidecars included (their paths and, with SOURCE_DATE_EPOCH, their times are the same)
    assert _files(out) == files and len(files) == 10
    assert _lines(_log(out)) == _lines(records)
    assert not (out / INFLIGHT_NAME).exists()


def test_a_rerun_on_the_cluster_resumes_a_partial_run(folders, tmp_path: Path, cluster, capsys) -> None:
    src, masks = folders
    address = cluster.scheduler.address
    out = tmp_path / "out"
    files, _ = _reference(src, masks, out, capsys)
    assert _run(_batch(src, masks, out, "--dask", address), capsys)[0] == 0
    # as a run killed with three photos out leaves it: b made, e not begun, their lines never written,
    # the third one's line torn as it was written; all three still named in the in-flight file
    log = out / RECORD_NAME
    kept = [line for line in log.read_text().splitlines() if json.loads(line)["in_batch"] not in ("b.png", "e.png")]
    log.write_text("\n".join(kept[:-1]) + "\n" + kept[-1][:30])
    torn = json.loads(kept[-1])["in_batch"]
    (out / "e.png").unlink()
    (out / "e.png.restorer.json").unlink()
    (out / INFLIGHT_NAME).write_text(json.dumps(["b.png", "e.png", torn]))
    code, stdout, err = _run(_batch(src, masks, out, "--dask", address), capsys)
    assert code == 0, err
    assert "3 restored, 0 failed, 3 skipped" in stdout
    again = {r["in_batch"]: r["status"] for r in _log(out)[len(kept) - 1:]}
    assert again == {"b.png": "done", "e.png": "done", torn: "done",
                     **{k: "skipped: already done" for k in ("a.png", "c.png", "d.png", "f.png") if k != torn}}
    assert _files(out) == files and not (out / INFLIGHT_NAME).exists()


def test_a_failing_photo_is_recorded_and_the_rest_go_on(folders, tmp_path: Path, cluster, capsys) -> None:
    src, masks = folders
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(masks / "c_mask.png")  # c: wrong size
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "d.png").write_bytes(b"someone's file")  # d: never replaced without --overwrite
    code, stdout, err = _run(_batch(src, masks, tmp_path / "out", "--dask", cluster.scheduler.address), capsys)
    assert code == 1 and "4 restored, 2 failed, 0 skipped" in stdout
    status = {r["in_batch"]: r for r in _log(tmp_path / "out")}
    assert status["c.png"]["status"] == "failed" and "mask is 5 x 5 pixels" in status["c.png"]["error"]
    assert status["d.png"]["status"] == "failed" and "already exists" in status["d.png"]["error"]
    assert (tmp_path / "out" / "d.png").read_bytes() == b"someone's file"
    assert "mask is 5 x 5 pixels" in err and "Traceback" not in err  # the worker's failure, said here
    assert sorted(k for k, r in status.items() if r["status"] == "done") == ["a.png", "b.png", "e.png", "f.png"]


def _arm_killer(marker: str, victim: str, every_time: bool = False) -> None:
    """On a worker: the first fill of ``victim`` (or every one) kills its own worker process (SIGKILL, no cleanup)."""
    from restorer import cli_fill

    real = cli_fill.run_fill

    def run_fill(args, image, mask, output, label):
        if image.name == victim and (every_time or not os.path.exists(marker)):
            with open(marker, "a") as f:
                f.write(f"{os.getpid()}\n")
            os.kill(os.getpid(), signal.SIGKILL)
        return real(args, image, mask, output, label)

    run_fill.real = real  # type: ignore[attr-defined]
    cli_fill.run_fill = run_fill


def _disarm() -> None:
    from restorer import cli_fill

    cli_fill.run_fill = getattr(cli_fill.run_fill, "real", cli_fill.run_fill)


def test_a_worker_killed_mid_batch_loses_no_photo(folders, tmp_path: Path, cluster, capsys) -> None:
    src, masks = folders
    out = tmp_path / "out"
    files, records = _reference(src, masks, out, capsys)
    marker = tmp_path / "killed"
    cluster.run(_arm_killer, str(marker), "c.png")
    code, stdout, err = _run(_batch(src, masks, out, "--dask", cluster.scheduler.address), capsys)
    assert marker.is_file(), "no worker was killed"
    assert code == 0, err
    assert "6 restored, 0 failed, 0 skipped" in stdout
    assert _files(out) == files and _lines(_log(out)) == _lines(records)
    cluster.run(_disarm)  # the worker that was not killed still has the patch


def _finished_record(name: str) -> tuple[dict, str, str]:
    """On a worker: what photo_task returns, naming the process that computed it."""
    return {"in_batch": name, "status": "done", "pid": os.getpid()}, "", ""


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_finished_photo_lost_with_its_worker_before_it_was_read_is_computed_again(tmp_path: Path, cluster) -> None:
    """The race behind a failed CI run: a photo's task finished on a worker that then died on another
    photo before the client read the result; its future comes out of as_completed already 'lost'."""
    import argparse

    from restorer.cli_batch_dask import _Run
    from restorer.cli_batch_work import Tally

    tally = Tally(tmp_path / "record.jsonl", 1, quiet=True)
    run = _Run(cluster, argparse.Namespace(output=str(tmp_path)), tally, tmp_path / "inflight")
    future = cluster.submit(_finished_record, "a.png", pure=False)
    distributed.wait(future)
    first = future.result()[0]["pid"]
    run.pending[future] = (tmp_path / "a.png", tmp_path / "out.png", "a.png")
    run.completed.add(future)  # queued as finished
    holder = next(iter(cluster.who_has(future)[future.key]))
    with contextlib.suppress(Exception):  # the worker dies before it answers
        cluster.run(_die, workers=[holder])
    deadline = time.monotonic() + 30
    while future.status != "lost" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert future.status == "lost", future.status
    run.go([], {}, frozenset())
    assert tally.counts == {"done": 1, "failed": 0, "skipped": 0}
    (line,) = _log_lines(tmp_path / "record.jsonl")
    assert line["in_batch"] == "a.png" and line["pid"] != first  # computed again, on another process
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts the dead one for the tests after


def _log_lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


class _Killer(distributed.WorkerPlugin):
    def __init__(self, marker: str, victim: str) -> None:
        self.marker, self.victim = marker, victim

    def setup(self, worker) -> None:
        _arm_killer(self.marker, self.victim, every_time=True)


@pytest.mark.slow  # 6-30 s: two workers killed and restarted
def test_a_photo_that_kills_every_worker_is_recorded_failed_and_the_rest_go_on(folders, tmp_path: Path, cluster,
                                                                                capsys) -> None:
    src, masks = folders
    marker = tmp_path / "killed"
    # a plugin, so that the workers started in place of the killed ones kill themselves too
    cluster.register_plugin(_Killer(str(marker), "d.png"), name="test-killer")
    try:
        code, stdout, err = _run(_batch(src, masks, tmp_path / "out", "--dask", cluster.scheduler.address), capsys)
    finally:
        cluster.unregister_worker_plugin("test-killer")
        cluster.wait_for_workers(2, timeout=60)
        cluster.run(_disarm)
    assert len(marker.read_text().split()) == 2  # tried, and tried once more on another worker
    assert code == 1 and "5 restored, 1 failed, 0 skipped" in stdout
    status = {r["in_batch"]: r for r in _log(tmp_path / "out")}
    assert status["d.png"]["status"] == "failed" and "its worker died 2 times" in status["d.png"]["error"]
    assert not (tmp_path / "out" / "d.png").exists() and "its worker died 2 times" in err


def test_an_interrupted_cluster_batch_keeps_a_valid_record_and_resumes(folders, tmp_path: Path, cluster,
                                                                       monkeypatch, capsys) -> None:
    from restorer import cli_batch_work

    src, masks = folders
    out = tmp_path / "out"
    files, _ = _reference(src, masks, out, capsys)
    real = cli_batch_work.Tally.add

    def add(self, record, photo, target):  # Ctrl+C as the third photo comes back
        if self.seen == 2:
            raise KeyboardInterrupt
        real(self, record, photo, target)

    monkeypatch.setattr(cli_batch_work.Tally, "add", add)
    code, _, err = _run(_batch(src, masks, out, "--dask", cluster.scheduler.address), capsys)
    assert code == 130 and "interrupted" in err
    assert [r["status"] for r in _log(out)] == ["done", "done"]  # whole lines only
    pending = json.loads((out / INFLIGHT_NAME).read_text())
    assert len(pending) >= 2 and not {r["in_batch"] for r in _log(out)} & set(pending)
    monkeypatch.setattr(cli_batch_work.Tally, "add", real)
    cluster.wait_for_workers(2, timeout=60)
    code, stdout, err = _run(_batch(src, masks, out, "--dask", cluster.scheduler.address), capsys)
    assert code == 0 and "4 restored, 0 failed, 2 skipped" in stdout, err
    assert _files(out) == files and not (out / INFLIGHT_NAME).exists()


def _count_loads() -> None:
    """On a worker: count model loads and photos filled from now on (the model cache emptied first)."""
    from restorer import cli_batch_dask
    from restorer.inference import runner
    from restorer.models import registry

    runner.clear_models()
    counts = {"loads": 0, "photos": 0}
    load, fill = registry.load, cli_batch_dask.fill

    def counted_load(*args, **kwargs):
        counts["loads"] += 1
        return load(*args, **kwargs)

    def counted_fill(*args, **kwargs):
        counts["photos"] += 1
        return fill(*args, **kwargs)

    registry.load, cli_batch_dask.fill = counted_load, counted_fill
    registry.test_counts = counts  # type: ignore[attr-defined]


def _counts() -> dict[str, int]:
    from restorer.models import registry

    return dict(registry.test_counts)  # type: ignore[attr-defined]


def test_each_worker_loads_its_model_once(folders, tmp_path: Path, cluster, capsys) -> None:
    src, masks = folders
    cluster.run(_count_loads)
    code, _, err = _run(_batch(src, masks, tmp_path / "out", "--dask", cluster.scheduler.address), capsys)
    assert code == 0, err
    counts = cluster.run(_counts)
    assert sum(c["photos"] for c in counts.values()) == len(NAMES)
    for worker, c in counts.items():
        assert c["loads"] == (1 if c["photos"] else 0), (worker, c)


def test_bad_addresses_are_one_line(folders, tmp_path: Path, monkeypatch, capsys) -> None:
    from restorer import cli_batch_dask

    src, masks = folders
    with pytest.raises(SystemExit) as usage:
        main(_batch(src, masks, tmp_path / "out", "--dask", "local:zero"))
    assert usage.value.code == 2 and "expected local:N" in capsys.readouterr().err
    monkeypatch.setattr(cli_batch_dask, "CONNECT_TIMEOUT", 1.0)
    code, _, err = _run(_batch(src, masks, tmp_path / "out", "--dask", "tcp://127.0.0.1:9"), capsys)
    assert code == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out" / RECORD_NAME).exists()


def test_without_dask_the_cli_starts_and_dask_is_asked_for(folders, tmp_path: Path, monkeypatch, capsys) -> None:
    code = ("import sys, restorer.cli as c; c.build_parser().parse_args(['batch', 'x', '-o', 'y', '--dask', 'local:2']);"
            "print(sorted(m for m in sys.modules if m.partition('.')[0] in ('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    import restorer

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "restorer.cli_batch_dask", raising=False)
    monkeypatch.delattr(restorer, "cli_batch_dask", raising=False)
    src, masks = folders
    code, _, err = _run(_batch(src, masks, tmp_path / "out", "--dask", "local:2"), capsys)
    assert code == 1 and "pip install 'restorer[cluster]'" in err and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_kill_9_of_the_client_mid_batch_then_rerun_gives_the_sequential_outputs(tmp_path: Path, cluster, monkeypatch,
                                                                                 capsys) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    src, masks = tmp_path / "in", tmp_path / "masks"
    src.mkdir(), masks.mkdir()
    n = 10
    for i in range(n):  # big holes: Telea takes a while on each, so the kill lands mid-batch
        _photo(src / f"p{i}.png", i, 360, 360)
        m = np.zeros((360, 360), np.uint8)
        m[60:300, 60:300] = 255
        Image.fromarray(m).save(masks / f"p{i}.png")
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = tmp_path / "out"
    files, _ = _reference(src, masks, out, capsys)
    argv = [sys.executable, "-m", "restorer.cli", *_batch(src, masks, out, "--dask", "local:2")]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = out / RECORD_NAME
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if record.is_file() and record.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lines_at_kill = record.read_bytes().count(b"\n")
    assert proc.returncode == -signal.SIGKILL and 2 <= lines_at_kill < n, "the kill did not land mid-batch"
    time.sleep(1.0)  # the killed client's workers stop with it; none may write after this
    code, stdout, err = _run(_batch(src, masks, out, "--dask", cluster.scheduler.address), capsys)
    assert code == 0, err
    assert f"{n - lines_at_kill} restored, 0 failed, {lines_at_kill} skipped" in stdout
    assert _files(out) == files and len(files) == 2 * n
    statuses = [json.loads(x)["status"] for x in record.read_text().splitlines()]
    assert statuses.count("done") == n and statuses[lines_at_kill:].count("skipped: already done") == lines_at_kill
    assert not (out / INFLIGHT_NAME).exists()


def test_a_local_cluster_has_the_settings_the_shipped_dask_config_gives() -> None:
    import yaml  # a dependency of dask

    from restorer import cli_batch_dask

    shipped = yaml.safe_load((Path(__file__).resolve().parents[1] / "packaging" / "dask" / "restorer.yaml").read_text())
    for name, value in cli_batch_dask.LOCAL_SETTINGS.items():
        node = shipped
        for part in name.split("."):
            node = node[part]
        assert node == value, name
    before = dask.config.get("distributed.nanny.pre-spawn-environ")
    client, cluster = cli_batch_dask.connect("local:1")
    try:
        assert list(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()) == [None]
        assert cluster.scheduler.WORKER_SATURATION == 1.0
    finally:
        client.close()
        cluster.close()
    assert dask.config.get("distributed.nanny.pre-spawn-environ") == before  # nothing left behind in this process
