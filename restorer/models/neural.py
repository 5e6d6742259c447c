"""Learned models behind the registry's call: load safetensors + model card, run a torch network on numpy arrays.

A model card (weights/NAME.json) holds, besides provenance and the sha256 the registry checks:

    "config":    {"arch": "partialconv", "width": 32, "depth": 7}      # what build_network() takes
             or  {"arch": "edgeconnect", "width": 24, "blocks": 4, "sigma": 2.0}
    "inference": {"half": "fp16" | "bf16" | false}                     # optional; precision on CUDA

The weights file holds ``build_network(config).state_dict()`` (any float dtype; fp16 is cast to
the device's dtype). For EdgeConnect that is the pair's dict (keys "edge.*" and "inpaint.*"), with
spectral norm either still parametrised or already folded into plain weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from restorer.errors import ModelUnavailable, OutOfMemory
from restorer.models import edgeconnect, partialconv
from restorer.models.architectures import ARCHITECTURES
from restorer.models.device import resolve_device
from restorer.models.runtime import Runtime
from restorer.models.spec import ModelSpec

_BUILDERS: dict[str, Callable[[dict[str, Any]], nn.Module]] = {
    "partialconv": partialconv.build_network,
    "edgeconnect": edgeconnect.build_network,
}
_HALF = {"fp16": torch.float16, "bf16": torch.bfloat16}


def build_network(config: dict[str, Any]) -> nn.Module:
    """The (untrained) network a model card's config describes; its "arch" picks the module."""
    return _BUILDERS[config["arch"]](config)


@contextmanager
def translate_oom(name: str, device: str) -> Iterator[None]:
    """Turn torch's out-of-memory errors (CUDA's own type, or MPS/other RuntimeErrors saying so) into OutOfMemory."""
    try:
        yield
    except RuntimeError as exc:  # torch.cuda.OutOfMemoryError is a RuntimeError too
        if not isinstance(exc, torch.cuda.OutOfMemoryError) and "out of memory" not in str(exc).lower():
            raise
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        raise OutOfMemory(f"model {name!r} ran out of memory on {device}") from exc


class TorchInpainter:
    """A torch network with the registry's numpy call: ``model(image, mask) -> image``.

    image float32 N x 3 x H x W in [0, 1], mask N x 1 x H x W (1 = hole). H and W should be multiples
    of ``pad_multiple`` (the engine pads); other sizes are edge-padded here and cropped back.
    The result is the network's prediction inside the hole and the input elsewhere, clamped to [0, 1].
    """

    def __init__(self, name: str, network: nn.Module, device: str, pad_multiple: int,
                 half_kind: str | None = None, half: bool = False) -> None:
        self.name = name
        self.device = device
        self.pad_multiple = int(pad_multiple)
        self.network = network.to(device).eval()
        self._half_kind = half_kind if half_kind in _HALF else None  # what the card allows, if anything
        self.half = False
        self.set_half(half)
        self.runtime = Runtime()  # OpenVINO on the CPU when the `fast` extra is installed, else PyTorch

    @property
    def precision(self) -> str:
        return self._half_kind if self.half and self._half_kind else "fp32"

    def set_half(self, enabled: bool) -> None:
        """Use half precision (autocast) if asked, on CUDA, and if the model card says it is safe."""
        self.half = bool(enabled) and self.device.startswith("cuda") and self._half_kind is not None

    def set_runtime(self, setting: str) -> None:
        """'auto' (OpenVINO on the CPU if installed) | 'torch' | 'openvino' (models/runtime.py)."""
        self.runtime.set(setting)

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        img, hole, crop = self._inputs(image, mask)
        if not bool(hole.any()):
            return self._composite(img, hole, img, crop)
        with self._running():
            pred = self._predict(img, hole)
        return self._composite(img, hole, pred, crop)

    # --- two stages: a network with a refinement head (PConvUNet with "refine" in its card) ----------

    @property
    def two_stage(self) -> bool:
        """Whether ``coarse`` and ``refine`` split the call: the engine then runs the full-resolution
        head once over a region's blended tiles, on strips around the hole only, not once per tile."""
        return getattr(self.network, "refine", None) is not None

    def coarse(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The first stage: its prediction in the hole (not clamped: the head wants it raw), the input elsewhere."""
        img, hole, (h, w) = self._inputs(image, mask)
        with self._running():
            pred = self._unet(img, hole) if bool(hole.any()) else img
            out = torch.where(hole > 0.5, pred.float(), img)
        return out[:, :, :h, :w].cpu().numpy().astype(np.float32, copy=False)

    def refine(self, coarse: np.ndarray, image: np.ndarray, mask: np.ndarray, *,
               out: np.ndarray | None = None) -> np.ndarray:
        """The second stage on any size (no padding): what ``__call__`` returns, given ``coarse``'s output.

        Runs strip by strip around the hole (RefineHead.strips), each strip's tensors made from its
        own slice, so memory follows the hole, not the input's size; outside the hole: the input.
        ``out`` (may be ``coarse`` itself) receives the strips in place instead of a copy of the input;
        its pixels outside the strips are then left as they were.
        """
        head = self.network.refine
        hole = np.asarray(mask)[:, 0] > 0.5
        n, h, w = hole.shape
        boxes = head.strips(hole) or [(k, (0, h, 0, w), (0, h, 0, w)) for k in range(n)]
        done = []  # written once all strips are run: a strip's context may overlap its neighbours'
        with self._running():
            for k, (y0, y1, x0, x1), (a0, a1, b0, b1) in boxes:
                part = (slice(k, k + 1), slice(None), slice(a0, a1), slice(b0, b1))
                img, first, sub_hole = (torch.from_numpy(np.ascontiguousarray(a[part], dtype=np.float32)).to(self.device)
                                        for a in (image, coarse, hole[:, None]))
                pred = self._composite(img, sub_hole, self._dense(first, img, sub_hole), (a1 - a0, b1 - b0))
                done.append(((slice(k, k + 1), slice(None), slice(y0, y1), slice(x0, x1)),
                             pred[:, :, y0 - a0 : y1 - a0, x0 - b0 : x1 - b0]))
        if out is None:
            out = np.array(image, dtype=np.float32, copy=True)
        for inner, values in done:
            out[inner] = values
        return out

    # --- shared plumbing ---------------------------------------------------------------------------

    def _predict(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        head = getattr(self.network, "refine", None)
        if head is None and not hasattr(self.network, "refine"):
            return self.network(image, hole)  # not a PConvUNet: no split to run through the runtime
        out = self._unet(image, hole)  # what PConvUNet.forward does, its two parts through the runtime
        return out if head is None else head(out, image, hole, dense=self._dense)

    def _unet(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        net = self.network
        return self.runtime.run("unet", net, lambda a, b: net(a, b, head=False), image, hole)

    def _dense(self, coarse: torch.Tensor, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        head = self.network.refine
        return self.runtime.run("head", head, head.dense, coarse, image, hole)

    def _inputs(self, image: np.ndarray, mask: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected image N x 3 x H x W, got shape {image.shape}")
        if mask.shape != (image.shape[0], 1, *image.shape[2:]):
            raise ValueError(f"expected mask N x 1 x H x W matching the image, got shape {mask.shape}")
        h, w = image.shape[2:]
        img = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).to(self.device)
        hole = torch.from_numpy((np.asarray(mask) > 0.5).astype(np.float32)).to(self.device)
        m = self.pad_multiple
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            img = torch.nn.functional.pad(img, (0, pw, 0, ph), mode="replicate")
            hole = torch.nn.functional.pad(hole, (0, pw, 0, ph))
        return img, hole, (h, w)

    def _composite(self, img: torch.Tensor, hole: torch.Tensor, pred: torch.Tensor, crop: tuple[int, int]) -> np.ndarray:
        out = torch.where(hole > 0.5, pred.float().clamp(0.0, 1.0), img)
        h, w = crop
        return out[:, :, :h, :w].cpu().numpy().astype(np.float32, copy=False)

    @contextmanager
    def _running(self) -> Iterator[None]:
        autocast = (
            torch.autocast(device_type="cuda", dtype=_HALF[self._half_kind])
            if self.half and self._half_kind
            else nullcontext()
        )
        with translate_oom(self.name, self.device), torch.inference_mode(), autocast:
            yield


class EdgeConnectInpainter(TorchInpainter):
    """EdgeConnect: Canny edges of the known pixels, predicted edges in the hole, then the image.

    ``model(image, mask, edges=None)``: if ``edges`` (N x 1 x H x W, {0, 1}) is given, it is the whole
    edge map the second stage sees, as ``predict_edges`` returns it (Canny of the known pixels outside
    the hole and its 2 px ring, predicted edges inside), edited inside the hole as the user likes: guide
    lines added, predicted lines erased. The first stage and Canny are then skipped, so a caller that
    already asked for the edges (the engine does, to merge guide lines) does not pay for them twice.
    """

    network: edgeconnect.EdgeConnect

    def predict_edges(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The edge map the second stage would see: float32 N x 1 x H x W in [0, 1], predicted inside
        the hole and a 2 px ring around it, Canny of the known pixels elsewhere (compose_edges)."""
        img, hole, (h, w) = self._inputs(image, mask)
        with self._running():
            known = self._known_edges(img, hole)
            pred = self._edges(img, known, hole).float()
            edges = edgeconnect.compose_edges(pred, known, hole)
        return edges[:, :, :h, :w].cpu().numpy().astype(np.float32, copy=False)

    def __call__(self, image: np.ndarray, mask: np.ndarray, edges: np.ndarray | None = None) -> np.ndarray:
        img, hole, crop = self._inputs(image, mask)
        if not bool(hole.any()):
            return self._composite(img, hole, img, crop)
        with self._running():
            if edges is None:  # EdgeConnect.forward, its generators' bodies through the runtime
                known = self._known_edges(img, hole)
                composed = edgeconnect.compose_edges(self._edges(img, known, hole), known, hole)
                pred = self._inpaint(img, composed, hole)
            else:
                if edges.shape != (image.shape[0], 1, *image.shape[2:]):
                    raise ValueError(f"expected edges N x 1 x H x W matching the image, got shape {edges.shape}")
                given = torch.from_numpy((np.asarray(edges) > 0.5).astype(np.float32)).to(self.device)
                ph, pw = img.shape[2] - crop[0], img.shape[3] - crop[1]
                pred = self._inpaint(img, torch.nn.functional.pad(given, (0, pw, 0, ph)), hole)
        return self._composite(img, hole, pred, crop)

    def _edges(self, img: torch.Tensor, known: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        gen = self.network.edge
        return gen(edgeconnect.to_gray(img), known, hole,
                   run=lambda x: self.runtime.run("edge", gen, gen._run, x))

    def _inpaint(self, img: torch.Tensor, edges: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        gen = self.network.inpaint
        return gen(img, edges, hole, run=lambda x: self.runtime.run("inpaint", gen, gen._run, x))

    def _known_edges(self, img: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        return edgeconnect.known_edges(edgeconnect.to_gray(img.float()), hole, self.network.sigma)


def load_network(spec: ModelSpec, weights: Path, card: dict[str, Any]) -> nn.Module:
    """Build the network from the card's config and fill it from the safetensors file (never pickle).

    ``card`` is the model card as the registry's check() parsed and checked it (its config is in
    bounds and of the spec's architecture). Raises ModelUnavailable with a one-line reason if the
    weights do not fit it.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    config = card.get("config")
    if not isinstance(config, dict) or config.get("arch") not in _BUILDERS:
        raise ModelUnavailable(
            f"model {spec.name!r} is unavailable: its model card has no '{spec.config.get('arch')}' architecture config"
        )
    try:
        network = build_network(config)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelUnavailable(f"model {spec.name!r} is unavailable: bad config in its model card: {exc}") from None
    try:
        state = load_file(str(weights), device="cpu")
    except (OSError, SafetensorError, ValueError) as exc:
        raise ModelUnavailable(f"model {spec.name!r} is unavailable: cannot read {weights.name}: {exc}") from None
    network.eval()
    try:
        _load_state(network, state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelUnavailable(
            f"model {spec.name!r} is unavailable: {weights.name} does not fit its card's config ({first})"
        ) from None
    return network


def _load_state(network: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a state dict whatever its float dtype, with spectral norm parametrised or folded; then fold it.

    Folding (in eval mode, so the stored power-iteration vectors are used as they are) gives the plain
    weights inference needs and saves the per-call normalisation.
    """
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    folded = not any(".parametrizations." in k for k in state)
    if not folded:
        network.load_state_dict(state, strict=True)
    _fold_parametrizations(network)
    if folded:
        network.load_state_dict(state, strict=True)


def _fold_parametrizations(network: nn.Module) -> None:
    from torch.nn.utils import parametrize

    with torch.no_grad():
        for module in list(network.modules()):
            if parametrize.is_parametrized(module):
                parametrizations: Any = module.parametrizations  # torch types it Tensor | Module
                for tensor_name in list(parametrizations.keys()):
                    parametrize.remove_parametrizations(module, tensor_name, leave_parametrized=True)


def _build(spec: ModelSpec, device: str, weights: Path | None, card: dict[str, Any] | None, half: bool,
           cls: type[TorchInpainter]) -> TorchInpainter:
    if weights is None or card is None:
        raise ModelUnavailable(f"model {spec.name!r} is unavailable: it needs a weights file and its checked card "
                               "(load it through restorer.models.registry.load)")
    where = resolve_device(device)
    network = load_network(spec, Path(weights), card)
    given = card.get("inference")
    inference = given if isinstance(given, dict) else {}
    kind = inference.get("half", spec.config.get("half"))
    # What the card's network needs, from its architecture; the engine pads to the spec's multiple,
    # which check() made sure this divides, so only direct calls (evaluation, tests) pad here.
    pad = ARCHITECTURES[card["config"]["arch"]].pad_multiple(card["config"])
    return cls(spec.name, network, where, pad, half_kind=kind if isinstance(kind, str) else None, half=half)


def build_partialconv(spec: ModelSpec, device: str = "auto", weights: Path | None = None,
                      card: dict[str, Any] | None = None, half: bool = False) -> TorchInpainter:
    """Registry factory for the Partial-Convolution U-Net variants (``half``: autocast on CUDA if the card allows)."""
    return _build(spec, device, weights, card, half, TorchInpainter)


def build_edgeconnect(spec: ModelSpec, device: str = "auto", weights: Path | None = None,
                      card: dict[str, Any] | None = None, half: bool = False) -> EdgeConnectInpainter:
    """Registry factory for the EdgeConnect variants (``half``: autocast on CUDA if the card allows)."""
    inpainter = _build(spec, device, weights, card, half, EdgeConnectInpainter)
    assert isinstance(inpainter, EdgeConnectInpainter)
    return inpainter
