"""Patch-based completion: the photo's own patches fill its holes (numpy, OpenCV and numba; no torch)."""
