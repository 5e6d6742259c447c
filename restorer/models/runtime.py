"""An optional faster CPU runtime for the learned networks' convolution bodies: OpenVINO (the ``fast`` extra).

Why OpenVINO: on this project's CPUs it ran the shipped weights 1.3x (partialconv) to 1.6x
(EdgeConnect) faster than eager PyTorch on one thread, in fp32, with outputs within 2e-5 (issue 15;
ONNX Runtime: 1.2x; torch.compile: up to 1.5x but 10-46 s of compile per input shape). Its models
take dynamic shapes, so one conversion serves every tile size.

A ``Runtime`` belongs to one inpainter. ``run(tag, module, *tensors)`` returns what ``module(*tensors)``
would, through OpenVINO when it is importable, wanted and the tensors are on the CPU; the converted
model is cached in memory per (tag, input channels), with dynamic batch and spatial size, so a second
fill pays nothing. Any conversion or runtime error switches this runtime to PyTorch for good and
leaves a one-line ``note`` for the fill's notes. ``RESTORER_RUNTIME=torch`` (or
``EngineOptions.runtime = "torch"``) turns it off.

Converting (tracing, then OpenVINO's converter) takes 3-8 s a network, more than most fills, so each
converted model is also kept on disk (``cache_dir()``, OpenVINO's own IR format) under a key of
everything it was made from: the weights, the source of the network's code, the input channels and
both libraries' versions. A later process reads it in a fraction of a second; a change to any of them
gives a new key. A cache that cannot be read or written only costs the conversion.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["Runtime", "available", "requested"]

RUNTIMES = ("auto", "torch", "openvino")
NOTE_FALLBACK = "faster runtime (OpenVINO) failed ({error}); filled with PyTorch"


def available() -> bool:
    """Whether the ``fast`` extra (openvino) is installed."""
    try:
        return importlib.util.find_spec("openvino") is not None
    except (ImportError, ValueError):  # a broken install, or one blocked with sys.modules["openvino"] = None
        return False


def requested(setting: str = "auto") -> bool:
    """Whether a setting ('auto' | 'torch' | 'openvino') and the RESTORER_RUNTIME variable ask for OpenVINO."""
    env = os.environ.get("RESTORER_RUNTIME", "").strip().lower()
    if setting not in RUNTIMES:
        raise ValueError(f"unknown runtime {setting!r}; choose one of {', '.join(RUNTIMES)}")
    return setting != "torch" and env != "torch"


class _Call(nn.Module):
    """A module whose forward is ``fn(*inputs)``: what gets traced and converted."""

    def __init__(self, fn: Any, owner: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.owner = owner  # registers the weights as this module's, for tracing

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.fn(*inputs)


class Runtime:
    """OpenVINO for one inpainter's networks, with PyTorch as the fallback (see the module doc)."""

    def __init__(self, setting: str = "auto") -> None:
        self.setting = "auto"
        self.note: str | None = None  # set once a conversion or run failed
        self._compiled: dict[tuple[Any, ...], Any] = {}  # (tag, channels, threads) -> compiled model
        self._models: dict[tuple[Any, ...], Any] = {}  # (tag, channels) -> converted model
        self._lock = threading.Lock()
        self.set(setting)

    def set(self, setting: str) -> None:
        requested(setting)  # validates
        self.setting = setting

    def active(self, device: str) -> bool:
        """Whether calls on ``device`` go through OpenVINO now."""
        return device == "cpu" and self.note is None and requested(self.setting) and available()

    @property
    def converted(self) -> int:
        """How many converted models are cached (one per tag and input channels)."""
        return len(self._models)

    def run(self, tag: str, module: nn.Module, fn: Any, *inputs: torch.Tensor) -> torch.Tensor:
        """``fn(*inputs)`` (a function of ``module``'s weights returning one tensor), through OpenVINO if active."""
        if not self.active(str(inputs[0].device)):
            return fn(*inputs)
        try:
            compiled = self._get(tag, module, fn, inputs)
            # A request per call: the compiled model's own one is not safe to share between threads
            # (the app's edge preview and a fill may call one cached model at once).
            request = compiled.create_infer_request()
            out = request.infer([np.ascontiguousarray(t.detach().float().numpy()) for t in inputs])[0]
            return torch.from_numpy(np.array(out, dtype=np.float32, copy=True))
        except Exception as exc:  # noqa: BLE001 - any failure of the optional runtime falls back to PyTorch
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
            self.note = NOTE_FALLBACK.format(error=first)
            return fn(*inputs)

    def _get(self, tag: str, module: nn.Module, fn: Any, inputs: tuple[torch.Tensor, ...]) -> Any:
        threads = max(1, torch.get_num_threads())
        key = (tag, tuple(int(t.shape[1]) for t in inputs), threads)
        with self._lock:
            if key in self._compiled:
                return self._compiled[key]
            model = self._models.get(key[:2])
            if model is None:
                model = self._models[key[:2]] = _cached_convert(tag, module, fn, inputs)
            config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32"}
            core = _openvino().Core()
            folder = cache_dir()
            if folder is not None:  # OpenVINO's own cache of compiled models, beside the converted ones
                try:
                    core.set_property({"CACHE_DIR": str(folder / "openvino" / "compiled")})
                except Exception:  # noqa: BLE001 - without it compiling only takes longer
                    pass
            compiled = core.compile_model(model, "CPU", config)
            self._compiled[key] = compiled
            return compiled


def _openvino() -> Any:
    """``import openvino`` with its usage telemetry off.

    Importing openvino imports its model converter, which sends usage events to Google Analytics by
    default (in forked processes, from whatever thread imports it) unless the user opted out. A photo
    restorer sends nothing: with ``openvino_telemetry`` unimportable OpenVINO uses its own no-op stub.
    """
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    import openvino

    return openvino


def _convert(module: nn.Module, fn: Any, inputs: tuple[torch.Tensor, ...]) -> Any:
    """Trace ``fn`` on ``inputs`` and convert it, with dynamic batch, height and width."""
    ov = _openvino()
    shapes = [ov.PartialShape([-1, int(t.shape[1]), -1, -1]) for t in inputs]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about shape checks, evaluated once per trace
        return ov.convert_model(_Call(fn, module).eval(), example_input=tuple(t.float() for t in inputs),
                                input=shapes)


def cache_dir() -> Path | None:
    """Where converted models are kept: RESTORER_CACHE_DIR, else the user's cache folder
    (platformdirs: ~/.cache/restorer on Linux, ~/Library/Caches/restorer on macOS, %LOCALAPPDATA% on
    Windows); None when RESTORER_CACHE_DIR is "off" (nothing is written)."""
    env = os.environ.get("RESTORER_CACHE_DIR", "").strip()
    if env.lower() in ("off", "none", "0"):
        return None
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("restorer", appauthor=False))


def _key(tag: str, module: nn.Module, fn: Any, inputs: tuple[torch.Tensor, ...]) -> str:
    """A digest of everything a converted model depends on."""
    ov = _openvino()
    h = hashlib.sha256()
    for part in (tag, ov.__version__, torch.__version__, type(module).__qualname__,
                 *(str(tuple(t.shape[1:2])) for t in inputs)):
        h.update(part.encode() + b"\0")
    # the code of every layer class in it that is not torch's own (torch's is its version), and of ``fn``
    sources = {inspect.getsourcefile(type(m)) for m in module.modules() if not type(m).__module__.startswith("torch")}
    sources.add(getattr(getattr(fn, "__code__", None), "co_filename", None))
    for path in sorted(p for p in sources if p):
        if os.path.exists(path):
            h.update(Path(path).read_bytes())
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(tensor.detach().cpu().float().numpy()).tobytes())
    return h.hexdigest()[:32]


def _cached_convert(tag: str, module: nn.Module, fn: Any, inputs: tuple[torch.Tensor, ...]) -> Any:
    """``_convert``, read from / written to ``cache_dir()`` when it can be."""
    folder = cache_dir()
    if folder is None:
        return _convert(module, fn, inputs)
    ov = _openvino()
    try:
        xml = folder / "openvino" / f"{tag}-{_key(tag, module, fn, inputs)}.xml"
    except Exception:  # noqa: BLE001 - no key, no cache
        return _convert(module, fn, inputs)
    if xml.exists():
        try:
            return ov.Core().read_model(str(xml))
        except Exception:  # noqa: BLE001 - a damaged entry is converted again and replaced
            pass
    model = _convert(module, fn, inputs)
    tmp = xml.with_name(f".{xml.stem}-{os.getpid()}-{threading.get_ident()}.xml")
    try:
        xml.parent.mkdir(parents=True, exist_ok=True)
        ov.save_model(model, str(tmp), compress_to_fp16=False)
        os.replace(tmp.with_suffix(".bin"), xml.with_suffix(".bin"))  # the weights first: an .xml means both
        os.replace(tmp, xml)
    except Exception:  # noqa: BLE001 - an unwritable cache only costs the next process the conversion
        for leftover in (tmp, tmp.with_suffix(".bin")):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass
    return model
