"""UI responsiveness benchmark: the real window, offscreen, measured while it opens photos and runs fills.

Reports
- launch: seconds from starting a fresh `python` process to a shown window with a photo painted;
- stall: the longest gap of the GUI event loop (a 5 ms QTimer measures gaps) while a fill runs in
  the worker and the benchmark keeps panning, zooming and hovering the canvas (target < 50 ms);
- big: opening a large 16-bit scan (default 100 MP): seconds to a shown photo, the longest stall
  while it loads, and the paint time of the canvas at fit and at 100 % while panning.

Usage: python benchmarks/bench_ui.py [--big-mp 100] [--photo-mp 12] [--models telea,...]
Writes benchmarks/results/bench_ui.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
# --code DIR measures another checkout's restorer (main's, for a before/after ratio in one run)
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv[:-1] else ROOT
sys.path.insert(0, str(CODE))
RESULTS = ROOT / "benchmarks" / "results"
STALL_TARGET_MS = 50.0


def make_photo(height: int, width: int, dtype: str = "uint8", seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    yy = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    xx = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    top = 255 if dtype == "uint8" else 65535
    out = np.empty((height, width, 3), dtype=dtype)
    for c, (a, b) in enumerate([(0.7, 0.2), (0.3, 0.6), (0.5, 0.4)]):
        out[:, :, c] = ((a * xx + b * yy) / (a + b) * top).astype(dtype)
    # texture on a thin band only: generating noise for 100 MP would dominate the set-up time
    band = min(height, 64)
    out[:band] = np.clip(out[:band].astype(np.int32) + rng.integers(-8, 9, (band, width, 3)), 0, top).astype(dtype)
    return out


def write_photo(path: Path, pixels) -> Path:
    import tifffile

    tifffile.imwrite(path, pixels, photometric="rgb")
    return path


def write_random_weights(folder: Path, names: list[str]) -> list[str]:
    """Random-initialised weights at each learned model's catalogue size (speed, not quality, is measured)."""
    import torch
    from safetensors.torch import save_file

    from restorer.models import edgeconnect, partialconv, registry

    written = []
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        spec = registry.get_spec(name)
        if not spec.learned:
            continue
        config = {k: v for k, v in spec.config.items() if k != "half"}
        build = edgeconnect.build_network if config["arch"] == "edgeconnect" else partialconv.build_network
        torch.manual_seed(0)
        net = build(config).eval()
        path = folder / spec.weights
        save_file({k: v.detach().half().contiguous().clone() for k, v in net.state_dict().items()}, str(path))
        card = {"config": config, "sha256": registry.file_sha256(path), "licence": "benchmark only: random weights"}
        (folder / spec.card_name).write_text(json.dumps(card), encoding="utf-8")
        written.append(name)
    return written


# --- launch time (child process) -------------------------------------------------------------------


def child_launch(image: Path, t0: float) -> None:
    """Runs in a fresh process: start the app on ``image`` and report when the photo is painted."""
    from restorer.ui.app import launch, make_app, parse_args

    app = make_app(sys.argv[:1])
    window = launch(parse_args([str(image)]))
    done = {}

    def opened(_path: str) -> None:
        window.canvas.repaint()  # paint now, so the time includes the first frame with the photo
        done["t"] = time.time() - t0

    window.photoOpened.connect(opened)
    deadline = time.time() + 120
    while "t" not in done and time.time() < deadline:
        app.processEvents()
        time.sleep(0.001)
    window.shutdown()
    print(json.dumps({"launch_s": done.get("t")}))


def measure_launch(image: Path, runs: int = 3) -> dict:
    times = []
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run([sys.executable, __file__, "--child-launch", str(image), "--t0", repr(t0), "--code", str(CODE)],
                             capture_output=True, text=True, timeout=300, env=dict(os.environ))
        line = [s for s in out.stdout.splitlines() if s.startswith("{")]
        if not line:
            raise RuntimeError(f"launch child failed: {out.stderr[-2000:]}")
        times.append(json.loads(line[-1])["launch_s"])
    return {"runs": runs, "best_s": min(times), "median_s": sorted(times)[len(times) // 2]}


# --- in-process measurements -----------------------------------------------------------------------


class StallMeter:
    """Gaps between ticks of a 5 ms timer on the GUI thread = how long the event loop was busy."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.busy: list[float] = []  # the GUI thread's own CPU time in each gap (waiting for a core or the GIL is not)
        self.ends: list[float] = []  # perf_counter at the end of each gap
        self._last = self._last_cpu = 0.0

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.gaps.append((now - self._last) * 1000)
        self.busy.append((cpu - self._last_cpu) * 1000)
        self.ends.append(now)
        self._last, self._last_cpu = now, cpu

    def start(self) -> None:
        self.gaps.clear()
        self.busy.clear()
        self.ends.clear()
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self.timer.start()

    def stop(self) -> dict:
        self.timer.stop()
        gaps = sorted(self.gaps) or [0.0]
        return {
            "longest_ms": round(gaps[-1], 1),
            "p99_ms": round(gaps[int(0.99 * (len(gaps) - 1))], 1),
            "ticks": len(self.gaps),
            "over_50ms": sum(g > 50 for g in gaps),
            # on a loaded machine a gap can be long while the GUI thread only waited for a core:
            # the most CPU time it spent between two ticks is what the code itself held it for
            "longest_busy_ms": round(max(self.busy, default=0.0), 1),
        }


def wait_for(app, cond, timeout: float) -> bool:
    deadline = time.time() + timeout
    while not cond() and time.time() < deadline:
        app.processEvents()
        time.sleep(0.001)
    return cond()


def open_and_wait(app, window, path: Path, timeout: float = 600) -> float:
    opened = {}
    window.photoOpened.connect(lambda _p: opened.setdefault("t", time.perf_counter()))
    t0 = time.perf_counter()
    window.open_path(path)
    if not wait_for(app, lambda: "t" in opened, timeout):
        raise RuntimeError(f"{path} did not open")
    window.canvas.repaint()
    return time.perf_counter() - t0


def paint_times(app, window, steps: int = 40) -> dict:
    """Repaint the whole canvas while panning: at fit, and at 100 % (milliseconds per frame)."""
    from PySide6.QtCore import QPointF

    canvas = window.canvas
    out = {}
    for name, setup in (("fit", canvas.fit), ("100%", canvas.actual_size)):
        setup()
        app.processEvents()
        frames = []
        for i in range(steps):
            canvas.pan_by(7 if i % 20 < 10 else -7, 5 if i % 20 < 10 else -5)
            t0 = time.perf_counter()
            canvas.repaint()
            frames.append((time.perf_counter() - t0) * 1000)
        frames.sort()
        out[name] = {"median_ms": round(frames[len(frames) // 2], 2), "max_ms": round(frames[-1], 2)}
    canvas.zoom_at(1.0, QPointF(0, 0))
    return out


class GcPauses:
    """The longest garbage collection on the GUI thread (a full collection with torch loaded is slow)."""

    def __init__(self) -> None:
        import threading

        self.gui = threading.get_ident()
        self.longest_ms = 0.0
        self.generation = -1
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        import threading

        if threading.get_ident() != self.gui:
            return
        if phase == "start":
            self._t0 = time.perf_counter()
        elif (ms := (time.perf_counter() - self._t0) * 1000) > self.longest_ms:
            self.longest_ms, self.generation = ms, info.get("generation", -1)


class ApplyTimer:
    """Milliseconds the GUI thread spends in each step of applying a finished fill (wrapped methods)."""

    # (owner attribute on the window or None for the window itself, method): what a fill's apply runs
    PARTS = (("fills", "_on_finished"), ("document", "apply_fill"), ("document", "apply_prepared"),
             ("canvas", "photo_changed"), ("canvas", "photo_tiles_changed"), ("canvas", "overlay_changed"),
             ("edges", "mask_changed"), (None, "_update_actions"), ("history_panel._model", "sync"),
             ("history_panel._model", "_thumbnail"), (None, "fill"), ("fills", "fill"))

    def __init__(self, window) -> None:
        self.window = window
        self.ms: dict[str, float] = {}
        self.started: dict[str, float] = {}  # perf_counter when each was first called
        self._undo: list = []

    def start(self) -> None:
        for owner_name, name in self.PARTS:
            owner = self.window
            for part in (owner_name or "").split(".") if owner_name else ():
                owner = getattr(owner, part, None)
            method = getattr(owner, name, None) if owner is not None else None
            if method is None:
                continue
            self._undo.append((owner, name))
            setattr(owner, name, self._timed(f"{owner_name or 'window'}.{name}", method))

    def _timed(self, key: str, method):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            self.started.setdefault(key, t0)
            try:
                return method(*args, **kwargs)
            finally:
                self.ms[key] = self.ms.get(key, 0.0) + (time.perf_counter() - t0) * 1000
        return timed

    def stop(self) -> dict:
        for owner, name in self._undo:
            delattr(owner, name)
        self._undo.clear()
        return {k: round(v, 1) for k, v in self.ms.items()}


def measure_fill(app, window, model: str, photo: Path) -> dict:
    """Brush a long scratch (about 1 % of the photo), fill it, and keep the window busy meanwhile."""
    from PySide6.QtCore import QPointF, QTimer

    open_and_wait(app, window, photo)
    doc = window.document
    h, w = doc.shape
    radius = max(2.0, (0.01 * h * w) / (2 * 0.8 * w))  # a diagonal-ish scratch of ~1 % of the area
    doc.begin_stroke()
    doc.paint((0.1 * w, 0.2 * h), (0.9 * w, 0.8 * h), radius)
    doc.commit_stroke()
    masked = float(doc.mask.mean())
    if not window.model_picker.set_model(model):
        return {"model": model, "skipped": window.model_picker.reason(model)}

    canvas = window.canvas
    tick = {"i": 0}

    def interact() -> None:
        # what a user does while waiting: pan, zoom, hover (repaints the cursor outline)
        i = tick["i"] = tick["i"] + 1
        if i % 3 == 0:
            canvas.pan_by(9 if i % 60 < 30 else -9, 0)
        elif i % 3 == 1:
            canvas.zoom_at(1.05 if i % 40 < 20 else 1 / 1.05, QPointF(canvas.width() / 2, canvas.height() / 2))
        else:
            canvas._update_cursor_outline(QPointF(100 + i % 200, 100 + i % 150))

    driver = QTimer()
    driver.setInterval(16)
    driver.timeout.connect(interact)
    meter = StallMeter()
    # The same interaction for 2 s with no fill: the noise floor of this machine (other load, painting).
    meter.start()
    driver.start()
    wait_for(app, lambda: False, 2.0)
    driver.stop()
    idle = meter.stop()
    done = {}
    window.fills.fillApplied.connect(lambda _e: done.setdefault("ok", True))
    window.fills.fillDropped.connect(lambda why: done.setdefault("dropped", why))
    import gc

    timer = ApplyTimer(window)
    timer.start()  # before the fill: its callbacks are bound when it is submitted
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    meter.start()
    driver.start()
    t0 = time.perf_counter()
    window.fill()
    wait_for(app, lambda: bool(done), 900)
    seconds = time.perf_counter() - t0
    wait_for(app, lambda: False, 0.5)  # the repaints that follow the apply count too
    driver.stop()
    stall = meter.stop()
    apply_ms = timer.stop()
    gc.callbacks.remove(pauses)
    stall["gui_gc_longest_ms"] = round(pauses.longest_ms, 1)
    stall["gui_gc_generation"] = pauses.generation
    applied_at = timer.started.get("fills._on_finished")
    if meter.busy and applied_at is not None:  # when the GUI thread's busiest gap ended, from the apply's start
        i = max(range(len(meter.busy)), key=meter.busy.__getitem__)
        stall["longest_busy_from_apply_s"] = round(meter.ends[i] - applied_at, 2)
    return {"apply_ms": apply_ms, "model": model, "photo": f"{w} x {h}", "masked_percent": round(100 * masked, 2),
            "fill_s": round(seconds, 2), "applied": "ok" in done, "dropped": done.get("dropped"),
            "device": window.fills.device_label.text().replace("Device: ", ""), "frames_driven": tick["i"], **stall,
            "idle_longest_ms": idle["longest_ms"], "idle_p99_ms": idle["p99_ms"],
            "idle_longest_busy_ms": idle["longest_busy_ms"]}


def stroke_times(app, window, segments: int = 60) -> dict:
    """A brush drag at 100 % with real mouse events: milliseconds per mouse move, paint included."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    canvas = window.canvas
    canvas.actual_size()
    canvas.set_brush_size(40)
    app.processEvents()
    times = []
    x0, y0 = canvas.width() // 4, canvas.height() // 2
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x0, y0))
    for i in range(1, segments + 1):
        t0 = time.perf_counter()
        QTest.mouseMove(canvas, QPoint(x0 + 8 * i, y0 + (i % 10)))
        canvas.repaint()
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x0 + 8 * segments, y0))
    commit_ms = (time.perf_counter() - t0) * 1000
    times.sort()
    window.document.undo()
    return {"median_ms": round(times[len(times) // 2], 2), "max_ms": round(times[-1], 2), "commit_ms": round(commit_ms, 1)}


def measure_big(app, window, path: Path) -> dict:
    meter = StallMeter()
    meter.start()
    seconds = open_and_wait(app, window, path)
    stall = meter.stop()
    doc = window.document
    h, w = doc.shape
    stroke = stroke_times(app, window)
    return {"photo": f"{w} x {h} x {doc.pixels.shape[2]}, {doc.pixels.dtype.itemsize * 8}-bit",
            "brush_stroke": stroke,
            "megapixels": round(h * w / 1e6, 1), "open_s": round(seconds, 2),
            "pyramid_levels": len(window.display.levels), "stall_while_opening": stall,
            "paint_while_panning": paint_times(app, window)}


def to_markdown(report: dict) -> str:
    lines = [f"# UI responsiveness ({report['machine']}; restorer from {report.get('code', '?')})", ""]
    if "launch" in report:
        lines += [f"Launch to a shown window with a {report['launch_photo']} photo: "
                  f"**{report['launch']['median_s']:.2f} s** (median of {report['launch']['runs']}, best {report['launch']['best_s']:.2f} s)", ""]
    lines += ["| fill | photo | masked | fill time | longest GUI stall | p99 | stalls > 50 ms | same interaction, no fill: longest / p99 | device |",
             "|---|---|---|---|---|---|---|---|---|"]
    breakdown = []
    for f in report["fills"]:
        if "skipped" in f:
            lines.append(f"| {f['model']} | skipped: {f['skipped']} |||||||||")
            continue
        ok = "" if f["applied"] else f" (not applied: {f['dropped']})"
        ok += " (random weights)" if f.get("random_weights") else ""
        lines.append(f"| {f['model']}{ok} | {f['photo']} | {f['masked_percent']} % | {f['fill_s']} s | "
                     f"**{f['longest_ms']} ms** | {f['p99_ms']} ms | {f['over_50ms']} | {f.get('longest_busy_ms', '?')} ms | "
                     f"{f['idle_longest_ms']} / {f['idle_p99_ms']} / {f.get('idle_longest_busy_ms', '?')} ms | {f['device']} |")
        parts = ", ".join(f"{k} {v} ms" for k, v in f.get("apply_ms", {}).items())
        breakdown.append(f"- {f['model']}: GUI-thread time (nested: a document change includes its listeners): {parts}")
    lines += ["", *breakdown]
    big = report.get("big")
    if big:
        s = big["stall_while_opening"]
        p = big["paint_while_panning"]
        lines += ["", f"Large scan {big['photo']} ({big['megapixels']} MP): opened in **{big['open_s']} s**, "
                  f"longest GUI stall while it loaded {s['longest_ms']} ms; {big['pyramid_levels']} pyramid levels; "
                  f"full-window repaint while panning: fit {p['fit']['median_ms']} ms (max {p['fit']['max_ms']}), "
                  f"100 % {p['100%']['median_ms']} ms (max {p['100%']['max_ms']}); brushing at 100 %: "
                  f"{big['brush_stroke']['median_ms']} ms per mouse move with repaint (max {big['brush_stroke']['max_ms']}), "
                  f"{big['brush_stroke']['commit_ms']} ms to commit the stroke."]
    lines += ["", f"Target: longest stall under {STALL_TARGET_MS:.0f} ms. Window {report['window']}, offscreen Qt; "
              f"load average when it ran: {report.get('load', '?')}. During a fill the benchmark pans, zooms and "
              "hovers every 16 ms, as a user might while waiting.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child-launch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--photo-mp", type=float, default=12.0, help="size of the photo filled while measuring stalls")
    parser.add_argument("--big-mp", type=float, default=100.0, help="size of the large 16-bit scan (0 = skip)")
    parser.add_argument("--models", default="telea,edgeconnect-compact,partialconv-compact")
    parser.add_argument("--random-weights", action="store_true",
                        help="give learned models random weights (when none are trained yet) to time them")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose restorer is measured (default: this one)")
    parser.add_argument("--no-launch", action="store_true", help="skip the launch-time runs")
    args = parser.parse_args()
    if args.child_launch:
        child_launch(args.child_launch, args.t0)
        return 0

    settings = Path(tempfile.mkdtemp(prefix="restorer-bench-")) / "settings.ini"
    os.environ["RESTORER_SETTINGS"] = str(settings)  # never touch the user's preferences
    tmp = settings.parent
    models = [m for m in args.models.split(",") if m]
    random_weights: list[str] = []
    if args.random_weights:
        os.environ["RESTORER_WEIGHTS"] = str(tmp / "weights")
        random_weights = write_random_weights(tmp / "weights", models)
    side = lambda mp: (int((mp * 1e6 * 3 / 4) ** 0.5), int((mp * 1e6 * 4 / 3) ** 0.5))  # noqa: E731 - 4:3
    h, w = side(args.photo_mp)
    photo = write_photo(tmp / "photo.tif", make_photo(h, w))
    launch_photo = write_photo(tmp / "launch.tif", make_photo(3000, 4000))

    report: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU threads, {platform.python_version()}",
                    "launch_photo": "4000 x 3000 8-bit TIFF"}
    report["load"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    report["code"] = str(CODE)
    if not args.no_launch:
        report["launch"] = measure_launch(launch_photo)
        print(f"launch: {report['launch']}", flush=True)

    from restorer.ui.app import make_app
    from restorer.ui.main_window import MainWindow

    app = make_app(sys.argv[:1])
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    report["window"] = f"{window.canvas.width()} x {window.canvas.height()} canvas"
    report["fills"] = []
    for model in models:
        result = measure_fill(app, window, model, photo)
        result["random_weights"] = model in random_weights
        print(f"fill: {result}", flush=True)
        report["fills"].append(result)
        if window.document is not None:
            window.document.mark_saved(tmp / "unused.tif")  # nothing to save: skip the prompt on the next open
    if args.big_mp > 0:
        bh, bw = side(args.big_mp)
        big_path = write_photo(tmp / "big16.tif", make_photo(bh, bw, "uint16"))
        report["big"] = measure_big(app, window, big_path)
        print(f"big: {report['big']}", flush=True)
        big_path.unlink()
    window.document.mark_saved(tmp / "unused.tif")
    window.close()

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_ui.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "bench_ui.md").write_text(to_markdown(report), encoding="utf-8")
    print(to_markdown(report))
    worst = max((f.get("longest_ms", 0) for f in report["fills"]), default=0)
    return 0 if worst < STALL_TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
