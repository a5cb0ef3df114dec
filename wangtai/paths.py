"""Where everything lives under the data directory (DATA_CONTRACT.md §1)."""

import os
from dataclasses import dataclass
from pathlib import Path

from wangtai import settings

FEEDS = ("residents", "houses", "registrations", "source_records")

# Files holding raw or pseudonymized personal data are readable by the service's user only
# (DATA_CONTRACT.md §5): set explicitly, whatever the umask.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(folder: Path) -> Path:
    """Create folder (and missing parents) as PRIVATE_DIR; an existing folder is tightened to it."""
    missing = []
    current = folder
    while not os.path.lexists(current):
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, PRIVATE_DIR)
        except FileExistsError:  # another process made it meanwhile
            continue
        os.chmod(path, PRIVATE_DIR)  # mkdir's mode is cut by the umask
    if not missing and folder.is_dir() and folder.stat().st_mode & 0o777 != PRIVATE_DIR:
        os.chmod(folder, PRIVATE_DIR)
    return folder


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

    @property
    def private(self) -> tuple[Path, ...]:
        """The folders ingest and the server own, holding personal data: 0700 folders of 0600 files. (The
        inbox is left as the deployment set it: source systems write there, perhaps as another user.)"""
        return (self.reference, self.warehouse, self.quarantine, self.archive, self.state)

    def ensure(self) -> "DataPaths":
        for folder in self.private:
            private_dir(folder)
        if os.path.islink(self.inbox):  # refused by ingest (wangtai.ingest.inbox), not followed
            return self
        for feed in FEEDS:
            folder = self.feed_inbox(feed)
            if not os.path.lexists(folder):  # a symlinked feed folder is refused by ingest, not followed
                private_dir(folder)
        return self


def secret_file() -> Path:
    """The pseudonymization key: outside the repository and the data directory (DATA_CONTRACT.md §5)."""
    explicit = settings.get("secret_file")
    if explicit:
        return explicit
    config_home = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return config_home / "wangtai" / "pseudonym.key"
