"""The document: photo, mask and history, and photo I/O (numpy, Pillow, OpenCV, tifffile; no Qt, no torch)."""
