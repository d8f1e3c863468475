"""Bundled data: the draft checkpoint catalogue (a package so installs ship the JSON files)."""

from pathlib import Path

DATA_DIR = Path(__file__).parent
DEFAULT_CATALOGUE = DATA_DIR / "checkpoints-2026.1-draft.json"
