"""Colour-managed display: 8-bit RGB from the photo's embedded ICC profile to the screen's, with LittleCMS.

Only what the screen shows is converted (the display pyramid's level 0, and each box written to
it, so every shrunken level is the converted one); the document's pixels never change. The screen
is taken as sRGB unless $RESTORER_MONITOR_ICC names its profile file. A photo without a profile, a
gray one, or an sRGB one is shown as it is (no work).
"""

from __future__ import annotations

import io
import os
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms


class DisplayTransform:
    """A LittleCMS transform from one RGB profile to the screen's, for H x W x 3 uint8 arrays."""

    def __init__(self, transform: ImageCms.ImageCmsTransform, source: str) -> None:
        self._transform = transform
        self.source = source  # the profile's description, for the status bar and tests

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
        return np.asarray(ImageCms.applyTransform(image, self._transform))


def _screen_profile() -> ImageCms.ImageCmsProfile:
    path = os.environ.get("RESTORER_MONITOR_ICC")
    if path:
        try:
            return ImageCms.ImageCmsProfile(path)
        except (OSError, ImageCms.PyCMSError):
            pass  # an unreadable monitor profile: sRGB, as for an unknown screen
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@lru_cache(maxsize=8)
def display_transform(icc: bytes | None, channels: int) -> DisplayTransform | None:
    """The transform that shows a photo with profile ``icc`` right on the screen; None = show as is."""
    if not icc or channels != 3:
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if source.profile.xcolor_space.strip() != "RGB":
            return None
        name = ImageCms.getProfileDescription(source).strip()
        if "srgb" in name.lower() and not os.environ.get("RESTORER_MONITOR_ICC"):
            return None  # already the screen's colours: skip the work
        # NOCACHE: the same transform runs in the file thread (building) and the GUI thread (boxes).
        transform = ImageCms.buildTransform(source, _screen_profile(), "RGB", "RGB",
                                            renderingIntent=ImageCms.Intent.PERCEPTUAL,
                                            flags=ImageCms.Flags.NOCACHE)
    except (OSError, ImageCms.PyCMSError):
        return None  # a broken profile: the photo is shown unconverted, as before
    return DisplayTransform(transform, name)
