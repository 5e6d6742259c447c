"""The document session on its own: install's signals in order, the document's changes as Qt signals, the old one silent."""

from __future__ import annotations

import numpy as np

from restorer.core.document import Document
from restorer.core.image import Photo
from restorer.ui.convert import MaskPyramid, RgbPyramid
from restorer.ui.session import DocumentSession


def _doc() -> Document:
    return Document(Photo(np.zeros((20, 30, 3), np.uint8)))


def _install(session: DocumentSession, doc: Document) -> None:
    session.install(None, doc, RgbPyramid(doc.pixels), MaskPyramid(doc.mask))


def test_install_announces_the_replacement_before_and_after(qtbot):
    session = DocumentSession()
    seen: list[tuple[str, object]] = []
    session.aboutToReplace.connect(lambda: seen.append(("about", session.document)))
    session.documentReplaced.connect(lambda doc: seen.append(("replaced", doc)))
    first, second = _doc(), _doc()
    _install(session, first)
    _install(session, second)
    # controllers still see the old document when told it goes, and the new one when it is in
    assert seen == [("about", None), ("replaced", first), ("about", first), ("replaced", second)]
    assert session.document is second and session.display is not None and session.path is None


def test_document_changes_arrive_as_signals_and_the_old_document_is_not_heard(qtbot):
    session = DocumentSession()
    changes: list[tuple[str, object]] = []
    session.changed.connect(lambda kind, box: changes.append((kind, box)))
    old, new = _doc(), _doc()
    _install(session, old)
    old.begin_stroke()
    old.paint((5.0, 5.0), (10.0, 5.0), 2.0)
    old.commit_stroke()
    kinds = [k for k, _ in changes]
    assert "mask" in kinds and "history" in kinds
    box = next(b for k, b in changes if k == "mask")
    assert isinstance(box, tuple) and len(box) == 4
    changes.clear()
    _install(session, new)
    old.clear_mask()  # a document that is no longer open says nothing through the session
    assert changes == []
    new.invert_mask()
    assert [k for k, _ in changes] == ["mask", "history"]


def test_status_and_error_are_signals(qtbot):
    session = DocumentSession()
    said: list[tuple[object, ...]] = []
    session.status.connect(lambda text, ms: said.append(("status", text, ms)))
    session.error.connect(lambda title, message: said.append(("error", title, message)))
    session.show_status("hello")
    session.clear_status()
    session.show_error("Cannot save", "disk full")
    assert said == [("status", "hello", 8000), ("status", "", 0), ("error", "Cannot save", "disk full")]
