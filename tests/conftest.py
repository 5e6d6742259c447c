"""Shared test set-up: headless Qt, isolated settings, small generated photos."""

from __future__ import annotations

import os
import tempfile

# Qt must be headless before PySide6 is imported by any test module.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep torch and OpenCV from oversubscribing the 2-core CI machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Converted OpenVINO models go to a cache of this run (subprocesses inherit it), not the user's.
os.environ.setdefault("RESTORER_CACHE_DIR", tempfile.mkdtemp(prefix="restorer-test-cache-"))
