"""PyInstaller entry for `restorer-cli` (same as the `restorer-cli` console script)."""

from restorer.cli import main

raise SystemExit(main())
