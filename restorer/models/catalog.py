"""The models Restorer ships: one ModelSpec each, registered on import."""

from __future__ import annotations

from restorer.models.registry import ModelSpec, register

TELEA = register(
    ModelSpec(
        name="telea",
        description="OpenCV Telea fast marching: quick, good for thin scratches and specks",
        factory="restorer.models.classical:build",
        licence="Apache-2.0 (OpenCV)",
        config={"method": "telea", "radius": 5.0},
    )
)

NAVIER_STOKES = register(
    ModelSpec(
        name="navier-stokes",
        description="OpenCV Navier-Stokes: smooth fills that follow edges into the hole",
        factory="restorer.models.classical:build",
        licence="Apache-2.0 (OpenCV)",
        config={"method": "navier-stokes", "radius": 5.0},
    )
)

# --- learned models -------------------------------------------------------------------------------
# ``config`` here is the nominal architecture; the network is always built from the config in the
# weights' model card (the training run decides the final numbers), and the card's "arch" must match.
# Precision on CUDA: "half" names the autocast dtype judged safe (the card's "inference" may override).

_LEARNED_LICENCE = "code GPL-3.0-or-later; weights: research-only training data, see model card"

EDGECONNECT = register(
    ModelSpec(
        name="edgeconnect",
        description="EdgeConnect (paper size): predicts the hole's edges, then fills along them; best for structure",
        factory="restorer.models.neural:build_edgeconnect",
        licence=_LEARNED_LICENCE,
        weights="edgeconnect.safetensors",
        pad_multiple=4,
        work_size=256,
        neural=True,
        config={"arch": "edgeconnect", "width": 64, "blocks": 8, "sigma": 2.0, "half": "fp16"},
    )
)

EDGECONNECT_COMPACT = register(
    ModelSpec(
        name="edgeconnect-compact",
        description="EdgeConnect, compact: edge-guided fills fast enough for a laptop CPU",
        factory="restorer.models.neural:build_edgeconnect",
        licence=_LEARNED_LICENCE,
        weights="edgeconnect-compact.safetensors",
        pad_multiple=4,
        work_size=256,
        neural=True,
        config={"arch": "edgeconnect", "width": 16, "blocks": 4, "sigma": 2.0, "half": "fp16"},
    )
)

PARTIALCONV = register(
    ModelSpec(
        name="partialconv",
        description="Partial-Convolution U-Net (paper width): irregular holes, blotches and tears",
        factory="restorer.models.neural:build_partialconv",
        licence=_LEARNED_LICENCE,
        weights="partialconv.safetensors",
        pad_multiple=128,
        work_size=256,
        neural=True,
        config={"arch": "partialconv", "width": 64, "depth": 7, "half": "fp16"},
    )
)

PARTIALCONV_COMPACT = register(
    ModelSpec(
        name="partialconv-compact",
        description="Partial-Convolution U-Net, compact: quick fills of irregular holes on a CPU",
        factory="restorer.models.neural:build_partialconv",
        licence=_LEARNED_LICENCE,
        weights="partialconv-compact.safetensors",
        pad_multiple=128,
        work_size=256,
        neural=True,
        config={"arch": "partialconv", "width": 16, "depth": 7, "half": "fp16"},
    )
)
