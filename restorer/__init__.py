"""Restorer: fill damaged regions of photos with learned or classical inpainting."""

__version__ = "0.1.0"
