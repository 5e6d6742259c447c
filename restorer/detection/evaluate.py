"""Scoring a detection against known damage: precision, recall and F1 with a pixel tolerance, and clean-photo false alarms.

The tolerances are the issue's: a detected pixel is right when it lies within ``PRECISION_PX`` (3)
of true damage (a mask is drawn a little wider than the damage on purpose), and a damaged pixel is
found when a detection lies within ``RECALL_PX`` (1).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PRECISION_PX = 3
RECALL_PX = 1


def _near(mask: np.ndarray, px: int) -> np.ndarray:
    if px <= 0 or not mask.any():
        return mask
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.dilate(mask.astype(np.uint8), disc).astype(bool)


@dataclass
class Score:
    """Pixel counts; add scores of many photos with ``+`` before reading the rates."""

    detected: int = 0
    detected_right: int = 0
    damaged: int = 0
    damaged_found: int = 0

    def __add__(self, other: Score) -> Score:
        return Score(self.detected + other.detected, self.detected_right + other.detected_right,
                     self.damaged + other.damaged, self.damaged_found + other.damaged_found)

    @property
    def precision(self) -> float:
        return self.detected_right / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.damaged_found / self.damaged if self.damaged else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(detected: np.ndarray, truth: np.ndarray, *, all_truth: np.ndarray | None = None) -> Score:
    """Score a bool detection against bool ``truth``.

    ``all_truth`` (default ``truth``): what counts as damage for precision, so a detector scored on
    one kind is not blamed for finding another kind that is really there.
    """
    all_truth = truth if all_truth is None else all_truth
    right = detected & _near(all_truth, PRECISION_PX)
    found = truth & _near(detected, RECALL_PX)
    return Score(int(detected.sum()), int(right.sum()), int(truth.sum()), int(found.sum()))


def flagged_share(detected: np.ndarray) -> float:
    """The share of pixels flagged (on a clean photo every one is a false alarm)."""
    return float(detected.mean()) if detected.size else 0.0
