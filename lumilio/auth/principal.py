"""Who is calling: the user behind a request's token."""

from __future__ import annotations

from dataclasses import dataclass

from lumilio.errors import NotFound

ADMIN_PERMISSIONS = [
    "manage_users", "manage_settings", "view_all_assets", "manage_all_assets",
    "manage_own_profile",
]
USER_PERMISSIONS = ["view_own_assets", "manage_own_assets", "manage_own_profile"]


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can_see(self, owner_id: int | None) -> bool:
        return self.is_admin or owner_id == self.user_id

    def check_owns(self, owner_id: int | None, what: str = "Asset") -> None:
        # Another user's object answers as if it did not exist: its id tells nothing.
        if not self.can_see(owner_id):
            raise NotFound(f"{what} not found")
