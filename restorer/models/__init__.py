"""Inpainting models and their registry (torch is imported only when a learned model loads).

Importing the package registers the shipped models (catalog.py), as timm's model modules register
themselves: the registry never imports the catalogue, and no caller has to remember to.
"""

from restorer.models import catalog as _catalog  # noqa: F401 - registers the shipped models
