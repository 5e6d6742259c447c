"""The document: photo, mask and history (numpy and Pillow only; no Qt, no torch)."""
