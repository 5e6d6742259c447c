"""Where photos and masks are read from and written to: the open/save dialogs and the never-overwrite rules."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from restorer.core.document import Document
from restorer.core.image import Photo
from restorer.core.provenance import sidecar_path
from restorer.ui.convert import MaskPyramid, RgbPyramid

OPEN_FILTER = "Photos (*.tif *.tiff *.png *.jpg *.jpeg *.webp *.bmp);;Restorer projects (*.restorer);;All files (*)"
MASK_FILTER = "Mask PNG (*.png);;All files (*)"


def save_formats() -> dict[str, str]:
    from restorer.core.image import SAVE_FORMATS

    return dict(SAVE_FORMATS)


def format_limits(path: Path) -> tuple[bool, bool]:
    """(holds only 8 bits per channel, cannot hold transparency) for the format ``path``'s suffix names."""
    from restorer.core.image import EIGHT_BIT_FORMATS, NO_ALPHA_FORMATS

    fmt = save_formats().get(path.suffix.lower(), "")
    return fmt in EIGHT_BIT_FORMATS, fmt in NO_ALPHA_FORMATS


def restored_path(original: Path) -> Path:
    """``name-restored.ext`` beside the original (the original's format); a free name if that exists.

    A suffix we cannot write falls back to TIFF, which keeps any bit depth.
    """
    suffix = original.suffix if original.suffix.lower() in save_formats() else ".tif"
    candidate = original.with_name(f"{original.stem}-restored{suffix}")
    n = 2
    # A name whose provenance sidecar is left (its photo deleted) is taken too: a save never replaces it.
    while candidate.exists() or sidecar_path(candidate).exists():
        candidate = original.with_name(f"{original.stem}-restored-{n}{suffix}")
        n += 1
    return candidate


def same_file(a: Path, b: Path | None) -> bool:
    if b is None:
        return False
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def save_filters() -> tuple[list[str], dict[str, str]]:
    """Dialog filters, one per format name, and each filter's default suffix."""
    by_format: dict[str, list[str]] = {}
    for suffix, name in save_formats().items():
        by_format.setdefault(name, []).append(suffix)
    filters, default_suffix = [], {}
    for name, suffixes in by_format.items():
        text = f"{name} ({' '.join('*' + s for s in suffixes)})"
        filters.append(text)
        default_suffix[text] = suffixes[0]
    return filters, default_suffix


def ask_save_path(parent: QWidget, start: Path, current_suffix: str) -> Path | None:
    """The Save As dialog with a format choice; adds the chosen format's suffix when none was typed."""
    filters, suffix_for = save_filters()
    selected = next((f for f in filters if f"*{current_suffix.lower()}" in f.split("(")[1]), filters[0] if filters else "")
    name, chosen = QFileDialog.getSaveFileName(
        parent, "Save As", str(start), ";;".join(filters), selected,
        QFileDialog.Option.DontConfirmOverwrite,  # we ask ourselves, and more carefully for the original
    )
    if not name:
        return None
    path = Path(name)
    if not path.suffix and chosen in suffix_for:
        path = path.with_suffix(suffix_for[chosen])
    return path


def load_for_display(path: Path, partial: bool = False) -> tuple[Path | None, Document, RgbPyramid, MaskPyramid]:
    """Runs in the loader thread: read the photo, wrap it in a Document, build its display pyramids.

    Everything proportional to the photo's size happens here, so the GUI thread only swaps it in.
    ``partial``: a truncated JPEG's readable part (``restorer.core.partial``), marked as such.
    """
    from restorer.core.image import load_photo
    from restorer.core.partial import load_partial

    return (path, *prepare_for_display(load_partial(path) if partial else load_photo(path)))


def prepare_for_display(photo: Photo) -> tuple[Document, RgbPyramid, MaskPyramid]:
    """A Document for ``photo`` and its display pyramids (in a worker: the cost follows the photo's size)."""
    doc = Document(photo)
    return doc, RgbPyramid(doc.pixels, doc.photo.meta.icc_profile), MaskPyramid(doc.mask)
