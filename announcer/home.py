"""The one folder that holds everything kept between runs: work dir, models, avatars, job store."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .errors import InputError


@dataclass(frozen=True)
class Home:
    root: Path

    @staticmethod
    def resolve(explicit: str | Path | None = None) -> "Home":
        """`--home` wins, then ANNOUNCER_HOME, then the user's data dir."""
        chosen = explicit or os.environ.get("ANNOUNCER_HOME") or platformdirs.user_data_dir("announcer")
        root = Path(chosen).expanduser().resolve()
        if root.exists() and not root.is_dir():
            source = "--home" if explicit else "ANNOUNCER_HOME" if os.environ.get("ANNOUNCER_HOME") else "the home"
            raise InputError(f"{source} is a file, not a folder", path=root,
                             fix="give a folder for announcer's work files, models and avatars; it is made if missing")
        return Home(root)

    @property
    def work_dir(self) -> Path:
        return self.root / "work"

    @property
    def job_store(self) -> Path:
        """The SQLite job store: jobs, stages, schedule fires, and the studio's accounts, reviews and webhooks."""
        return self.work_dir / "jobs.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def avatars_dir(self) -> Path:
        return self.root / "avatars"

    @property
    def presenters_dir(self) -> Path:
        return self.root / "presenters"
