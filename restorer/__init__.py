"""Restorer: fill damaged regions of photos with learned or classical inpainting."""

from importlib.metadata import PackageNotFoundError, version

try:
    # One source of truth: pyproject.toml's version, as installed (pip, editable or not).
    __version__ = version("restorer")
except PackageNotFoundError:  # a source tree on sys.path that was never installed, or a bundle without metadata
    __version__ = "0+unknown"
