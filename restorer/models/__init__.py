"""Inpainting models and their registry (torch is imported only when a learned model loads)."""
