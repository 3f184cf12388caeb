"""Running the CLI of another checkout (benchmarks compare two code trees)."""

from __future__ import annotations

import sys
from pathlib import Path


def cli_command(code: Path) -> list[str]:
    """The command that runs `paperlens` from checkout `code` (with PYTHONPATH=code).

    Checkouts from before the single `paperlens` import name (2026-12-02) have
    their CLI at the top-level `assistant.cli`."""
    layout = "paperlens" if (code / "paperlens" / "__init__.py").is_file() else "assistant.cli"
    return [sys.executable, "-m", layout]
