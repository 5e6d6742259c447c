"""The models Restorer ships: one ModelSpec each, registered on import.

restorer/models/__init__.py imports this module, so the registry is full whenever any part of
restorer.models is imported; the registry itself never imports the catalogue (one direction only).
"""

from __future__ import annotations

from restorer.models.architectures import ARCHITECTURES
from restorer.models.registry import register
from restorer.models.spec import ModelSpec

TELEA = register(
    ModelSpec(
        name="telea",
        description="OpenCV Telea fast marching: quick, good for thin scratches and specks",
        factory="restorer.models.classical:build",
        licence="Apache-2.0 (OpenCV)",
        # Telea reads only known pixels within `radius` of the hole: a wider crop gives the same fill
        # (bit for bit) and only costs time.
        context=(7, 0.0),
        best_for="thin scratches, specks and dust; instant",
        config={"method": "telea", "radius": 5.0},
    )
)

NAVIER_STOKES = register(
    ModelSpec(
        name="navier-stokes",
        description="OpenCV Navier-Stokes: smooth fills that follow edges into the hole",
        factory="restorer.models.classical:build",
        licence="Apache-2.0 (OpenCV)",
        context=(7, 0.0),
        best_for="small holes in smooth areas (sky, skin, walls)",
        config={"method": "navier-stokes", "radius": 5.0},
    )
)

# --- learned models -------------------------------------------------------------------------------
# ``config`` here is the nominal architecture; the network is always built from the config in the
# weights' model card (the training run decides the final numbers), and the card's "arch" must match.
# Precision on CUDA: "half" names the autocast dtype judged safe (the card's "inference" may override).

_LEARNED_LICENCE = "code GPL-3.0-or-later; weights: research-only training data, see model card"


def _learned(name: str, description: str, best_for: str, factory: str, **config: object) -> ModelSpec:
    """Register one learned variant: the entries differ only in name, description and architecture numbers.

    What it can do (edges, the size multiple its crops are padded to) is its architecture's, declared.
    """
    arch = ARCHITECTURES[str(config["arch"])]
    return register(
        ModelSpec(
            name=name,
            description=description,
            factory=f"restorer.models.neural:{factory}",
            licence=_LEARNED_LICENCE,
            weights=f"{name}.safetensors",
            kind="learned",
            predicts_edges=arch.predicts_edges,
            context=(32, 0.5),
            pad_multiple=arch.pad_multiple(config),
            work_size=256,
            best_for=best_for,
            config={**config, "half": "fp16"},
        )
    )


EDGECONNECT = _learned(
    "edgeconnect",
    "EdgeConnect (paper size): predicts the hole's edges, then fills along them; best for structure",
    "holes that cut across edges and lines (paper-size weights)",
    "build_edgeconnect", arch="edgeconnect", width=64, blocks=8, sigma=2.0,
)
EDGECONNECT_COMPACT = _learned(
    "edgeconnect-compact",
    "EdgeConnect, compact: edge-guided fills fast enough for a laptop CPU",
    "holes across edges on a CPU; Edges mode lets you draw guide lines",
    "build_edgeconnect", arch="edgeconnect", width=16, blocks=4, sigma=2.0, prefill="pushpull",
)
PARTIALCONV = _learned(
    "partialconv",
    "Partial-Convolution U-Net (paper width): irregular holes, blotches and tears",
    "irregular blotches and tears (paper-size weights)",
    "build_partialconv", arch="partialconv", width=64, depth=7,
)
PARTIALCONV_COMPACT = _learned(
    "partialconv-compact",
    "Partial-Convolution U-Net, compact: quick fills of irregular holes on a CPU",
    "medium irregular holes and blotches, quickly on a CPU",
    "build_partialconv", arch="partialconv", width=16, depth=7,
)

# Both compact networks on the same crops, averaged (models/ensemble.py): their errors differ, so the
# mean is the best fill of the learned ones by PSNR/SSIM; the default guided fill's guide.
ENSEMBLE_COMPACT = register(
    ModelSpec(
        name="ensemble-compact",
        description="Partial-Conv and EdgeConnect (compact) averaged: the smoothest, most faithful learned fill",
        factory="restorer.models.ensemble:build",
        licence=_LEARNED_LICENCE,
        pad_multiple=128,  # a multiple of both members' (128 and 4)
        work_size=256,
        kind="learned",
        members=("partialconv-compact", "edgeconnect-compact"),
        best_for="the most faithful smooth fill (highest PSNR/SSIM); no texture",
    )
)

# --- patch synthesis ------------------------------------------------------------------------------
# Restorer's own PatchMatch completion (restorer.synthesis); no weights. The guided entries let a
# learned model decide structure and colour at its work size, and copy the photo's own full-resolution
# patches along that fill (no upscaled pixels reach the photo).

_SYNTH_LICENCE = "GPL-3.0-or-later (Restorer's own code)"

PATCHMATCH = register(
    ModelSpec(
        name="patchmatch",
        description="PatchMatch synthesis: copies the photo's own texture and grain; best for textured backgrounds",
        factory="restorer.synthesis.model:build",
        licence=_SYNTH_LICENCE,
        kind="synthesis",
        best_for="textured backgrounds: grass, fabric, walls, film grain",
        context=(48, 1.0),
        config={"patch": 7},
    )
)


# Chosen on the validation pairs (README, "Texture"; synthesis/compose.py): the guide's brightness below
# a 0.7-px Gaussian (in the guide's pixels), the photo's patches above it at 1.3 times their strength,
# in brightness only: detail 0.84-0.94 of the original's at the PSNR, SSIM and patch distance of a 1-px
# split at full strength (detail 0.76-0.86), which was +0.2 to 0.25 dB over a 2-px split with colour detail.
# guide_colour off: hues only from the photo's own patches, so a network's colour blotch never shows.
# Holes too thin for the network steer by and compose with Navier-Stokes instead of nothing
# (+0.5 to 0.8 dB over an unguided synthesis). "Too thin" is at most 16 px thick (an 8-px brush line
# measures about 13): 16 rather than 12 cost 0.06 dB at 1-10 % on 30 pairs per bucket and spares
# scratches the two networks, most of their time (benchmarks/bench_texture.py).
# A hole composed over Navier-Stokes takes the copied band at 1.0 instead of 1.3: on the 42 thin holes
# of the 100 validation pairs per bucket +0.22 dB and +0.001 SSIM, detail 1.00 -> 0.78, patch distance
# 0.071 -> 0.083 (Navier-Stokes: 0.22 and 0.099).
GUIDED_CONFIG = {"patch": 7, "lows": 0.7, "gain": 1.3, "gain_thin": 1.0, "guide_colour": False,
                 "texture_colour": False, "thin_guide": "navier-stokes", "unguided_below": 16.0,
                 "large_hole": 65536}


def _guided(name: str, guide: str, description: str, best_for: str) -> ModelSpec:
    return register(
        ModelSpec(
            name=name,
            description=description,
            factory="restorer.models.guided:build",
            licence=f"{_SYNTH_LICENCE}; guide: {_LEARNED_LICENCE}",
            kind="synthesis",
            guide_model=guide,
            best_for=best_for,
            config=GUIDED_CONFIG,
        )
    )


GUIDED_ENSEMBLE = _guided(
    "guided-ensemble", "ensemble-compact",
    "Both networks' structure + the photo's own texture at full resolution: the default for holes of any size",
    "holes of every size on photos with grain or texture; the default when installed",
)
GUIDED_PARTIALCONV = _guided(
    "guided-partialconv", "partialconv-compact",
    "Partial-Conv structure + the photo's own texture at full resolution: removing objects, large holes",
    "large holes and removed objects, one network's time",
)
GUIDED_EDGECONNECT = _guided(
    "guided-edgeconnect", "edgeconnect-compact",
    "EdgeConnect structure + the photo's own texture at full resolution: large holes across edges",
    "large holes that cross edges and lines",
)
