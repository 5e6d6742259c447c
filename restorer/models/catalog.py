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
