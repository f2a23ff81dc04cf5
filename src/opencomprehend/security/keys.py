"""The master key: what every secret at rest (credential secrets, key material) is encrypted under.

The operator provides it as OPENCOMPREHEND_MASTER_KEY (a Fernet key: 32 bytes, URL-safe base64), or the
server keeps one in `<data-dir>/master.key`, created 0600 on first use. Losing it loses the secrets it
protects, so a shared setup should provide it from its own secret store.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["InvalidToken", "master_cipher"]


def master_cipher(data_dir: Path, configured: str | None = None) -> Fernet:
    """The Fernet cipher of the master key (the configured one, else the data folder's own)."""
    if configured:
        try:
            return Fernet(configured.encode())
        except ValueError:
            raise ValueError("OPENCOMPREHEND_MASTER_KEY is not a Fernet key (32 bytes, URL-safe base64)") from None
    path = data_dir / "master.key"
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made by another process just now
        else:
            with open(fd, "wb") as out:
                out.write(Fernet.generate_key())
    return Fernet(path.read_bytes().strip())
