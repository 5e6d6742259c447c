"""ProgressWidget: the status bar's progress bar with a Cancel button, shown while a job runs."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QToolButton, QWidget


class ProgressWidget(QWidget):
    """Status-bar progress: a bar and a Cancel button, shown while a job runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel the running job (Esc)")
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, text: str) -> None:
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.bar.setFormat(text)
        self.show()

    def report(self, done: int, total: int, text: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(f"{text} %v/%m" if text else "%v/%m")
