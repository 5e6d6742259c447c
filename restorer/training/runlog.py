"""A training run's report: the JSONL log (RUN_DIR/log.jsonl, means over every ``log_every`` steps)
and the one-line progress bar on stderr."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

LOG = "log.jsonl"


class Progress:
    """A one-line stderr progress bar (rewritten in place on a terminal, one line per report otherwise)."""

    def __init__(self, total: int, start: int, quiet: bool = False) -> None:
        self.total, self.start, self.quiet = total, start, quiet
        self.t0 = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def show(self, step: int, logs: dict[str, float]) -> None:
        if self.quiet:
            return
        done = step - self.start
        rate = (time.perf_counter() - self.t0) / max(1, done)
        eta = rate * (self.total - step)
        parts = " ".join(f"{k} {v:.4f}" for k, v in logs.items())
        line = f"step {step}/{self.total} {rate:.2f} s/step eta {eta / 60:.0f} min | {parts}"
        sys.stderr.write(("\r" + line[:200]) if self.tty else line + "\n")
        sys.stderr.flush()


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


class Report:
    """The JSONL log (means over every ``log_every`` steps) and the progress bar."""

    def __init__(self, run_dir: Path, total: int, log_every: int, start: int, quiet: bool) -> None:
        self.path = run_dir / LOG
        self.total = total
        self.every = log_every
        self.bar = Progress(total, start, quiet)
        self.sums: dict[str, float] = {}
        self.count = 0
        self.t_last = time.perf_counter()

    def add(self, step: int, logs: dict[str, float]) -> None:
        for k, v in logs.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.count += 1
        if step % self.every == 0 or step == self.total:
            now = time.perf_counter()
            means = {k: v / self.count for k, v in self.sums.items()}
            append_jsonl(self.path, {"step": step, "time": time.time(), "s_per_step": (now - self.t_last) / self.count,
                                     **means})
            self.bar.show(step, {k: means[k] for k in ("loss", "hole") if k in means})
            self.sums, self.count, self.t_last = {}, 0, now

    def close(self) -> None:
        if not self.bar.quiet and self.bar.tty:
            sys.stderr.write("\n")
