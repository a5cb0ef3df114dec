"""Where everything lives under the data directory (DATA_CONTRACT.md §1)."""

import os
from dataclasses import dataclass
from pathlib import Path

from wangtai import settings

FEEDS = ("residents", "houses", "registrations", "source_records")


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @classmethod
    def from_env(cls) -> "DataPaths":
        return cls(Path(settings.get("data_dir")).resolve())

    @property
    def reference(self) -> Path:
        return self.root / "reference"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def state(self) -> Path:
        """Locks and other process state; never data."""
        return self.root / "state"

    def feed_inbox(self, feed: str) -> Path:
        return self.inbox / feed

    def ensure(self) -> "DataPaths":
        for folder in (self.reference, self.warehouse, self.quarantine, self.archive, self.state):
            folder.mkdir(parents=True, exist_ok=True)
        for feed in FEEDS:
            self.feed_inbox(feed).mkdir(parents=True, exist_ok=True)
        return self


def secret_file() -> Path:
    """The pseudonymization key: outside the repository and the data directory (DATA_CONTRACT.md §5)."""
    explicit = settings.get("secret_file")
    if explicit:
        return explicit
    config_home = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return config_home / "wangtai" / "pseudonym.key"
