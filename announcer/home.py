"""The one folder that holds everything kept between runs: work dir, models, avatars, job store."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Home:
    root: Path

    @staticmethod
    def resolve(explicit: str | Path | None = None) -> "Home":
        """`--home` wins, then ANNOUNCER_HOME, then the user's data dir."""
        chosen = explicit or os.environ.get("ANNOUNCER_HOME") or platformdirs.user_data_dir("announcer")
        return Home(Path(chosen).expanduser().resolve())

    @property
    def work_dir(self) -> Path:
        return self.root / "work"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def avatars_dir(self) -> Path:
        return self.root / "avatars"

    @property
    def presenters_dir(self) -> Path:
        return self.root / "presenters"
