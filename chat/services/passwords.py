"""Password hashing, always on the thread pool: scrypt takes tens of milliseconds of
CPU, and on the hub that would freeze every socket of the process meanwhile."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from ..concurrency import offload


class Hasher:
    def __init__(self, method: str = "scrypt"):
        self.method = method
        # Checked against when a login names nobody, so that costs what a real check costs.
        self._decoy = generate_password_hash("decoy-password", method=method)

    def hash(self, password: str) -> str:
        return offload(generate_password_hash, password, method=self.method)

    def check(self, password_hash: str | None, password: str) -> bool:
        return offload(check_password_hash, password_hash or self._decoy, password) and bool(
            password_hash
        )
