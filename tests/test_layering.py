"""The entry points load what they should: nothing but restorer.ui loads Qt, and the window and the CLI open without torch.

import-linter (pyproject.toml) checks the static import graph; these check what really gets loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _modules_after_import(*names: str) -> set[str]:
    code = "import json, sys\n" + "".join(f"import {n}\n" for n in names) + "print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out))


@pytest.mark.parametrize(
    "package",
    # Package __init__ files that hold only a docstring are left out: importing them cannot fail this.
    ["restorer.core.image", "restorer.core.document", "restorer.models.registry",
     "restorer.detection", "restorer.detection.registry", "restorer.detection.classical", "restorer.cli_detect",
     "restorer.inference.engine", "restorer.cli", "restorer.training.commands"],
)
def test_no_qt_outside_ui(package: str) -> None:
    loaded = _modules_after_import(package)
    assert not any(m == "PySide6" or m.startswith("PySide6.") for m in loaded), f"{package} pulled in PySide6"


@pytest.mark.parametrize(
    "package",
    ["restorer.core.image", "restorer.core.maskfile", "restorer.core.document", "restorer.core.mask", "restorer.core.history",
     "restorer.models.registry", "restorer.inference.engine", "restorer.cli",
     "restorer.detection", "restorer.detection.registry", "restorer.detection.classical", "restorer.cli_detect",
     "restorer.ui.main_window"],
)
def test_no_torch_at_import(package: str) -> None:
    # torch takes seconds to import: the window and the CLI must not pay for it before a model runs.
    loaded = _modules_after_import(package)
    assert "torch" not in loaded, f"{package} imported torch at import time"


def test_engine_and_core_never_import_ui() -> None:
    loaded = _modules_after_import("restorer.core.document", "restorer.inference.engine", "restorer.cli")
    assert not any(m.startswith("restorer.ui") for m in loaded)
    assert not any(m.startswith("restorer.training.") and m != "restorer.training.commands" for m in loaded)


def test_a_classical_fill_loads_neither_the_synthesis_nor_torch() -> None:
    # numba (the synthesis' kernels) takes a quarter of a second to import and torch seconds: a Telea
    # fill through the engine needs neither.
    code = ("import json, sys\nimport numpy as np\nfrom restorer.inference import engine\n"
            "px = np.zeros((40, 50, 3), np.uint8); m = np.zeros((40, 50), bool); m[10:20, 10:30] = True\n"
            "engine.inpaint(px, m, 'telea', engine.EngineOptions(device='cpu', threads=1))\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert "numba" not in loaded and "restorer.synthesis.kernels" not in loaded
    assert "torch" not in loaded
