"""What a fill task hands back: the engine's result with its history step and display tiles prepared.

Applying a finished fill used to be all GUI-thread work: diffing the new pixels against the photo,
copying the changed blocks' before and after patches, clearing the mask, refreshing both display
pyramids (about 80 ms for a long scratch on 24 megapixels). ``prepare_result`` runs at the end of
the fill task, in the worker: the diff is against the crops the job copied under the photo lock
(the pixels at the job's revision), the mask against the job's copy of it. The GUI thread then
only writes the prepared arrays (``DocumentSession.apply_fill_step``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from restorer.core.box import BBox
from restorer.core.fill_step import PreparedFill, prepare_fill
from restorer.ui.convert import MaskPyramid, RgbPyramid
from restorer.ui.display_tiles import PyramidTiles, fill_tiles

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Finished:
    """A fill task's outcome: the engine's Result, and (None when it could not be made) its step."""

    result: Any  # restorer.inference.job.Result
    step: PreparedFill | None = None
    tiles: dict[str, PyramidTiles] = field(default_factory=dict)


def prepare_result(job: Any, result: Any, layers: Mapping[str, np.ndarray],
                   display: RgbPyramid | None, mask_display: MaskPyramid | None) -> Finished:
    """``result``'s step from the pixels ``job`` (an inference Job) copied, and its display tiles.

    A patch box that is not one region's patch (so no copy of its old pixels is at hand) leaves the
    step to the GUI thread, as does a failure here (logged: the fill itself is fine).
    """
    crops = {tuple(r.patch): r for r in job.regions}

    def before(box: BBox) -> np.ndarray:
        region = crops[tuple(box)]
        return region.pixels[box.relative_to(region.crop)]

    if not result.patches or any(tuple(box) not in crops for box, _ in result.patches):
        return Finished(result)
    try:
        step = prepare_fill(result.patches, before, shape=job.shape, dtype=job.dtype, revision=job.revision,
                            layers=layers)
        return Finished(result, step, fill_tiles(display, mask_display, step.patches))
    except (ValueError, KeyError, IndexError) as exc:
        log.warning("fill step not prepared in the worker (%s); it is made on the GUI thread", exc)
        return Finished(result)
