"""What a fresh deployment needs before its first request: default roles and permissions, and
the first administrator from ADMIN_EMAIL / ADMIN_PASSWORD (created once, never overwritten)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oneenglish.core.context import Actor
from oneenglish.core.errors import Conflict, InvalidInput
from oneenglish.core.logging import get_logger
from oneenglish.rbac import service as rbac
from oneenglish.rbac.defaults import ADMIN_ROLE
from oneenglish.resources import Resources
from oneenglish.users import service as users
from oneenglish.workflows.register_user import register_user

log = get_logger("oneenglish.bootstrap")


async def seed_rbac(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as db:
        await rbac.seed_defaults(db)
        await db.commit()


async def create_admin(resources: Resources, email: str, username: str, password: str) -> bool:
    """Create an administrator unless a user with this email exists; True if created."""
    async with resources.sessionmaker() as db:
        if await users.find_by_email(db, email) is not None:
            return False
        try:
            await register_user(
                db,
                resources.runner,
                Actor.system(),
                users.NewUser(email, username, password),
                [ADMIN_ROLE],
            )
        except Conflict:
            return False  # created meanwhile by another process, or the username is taken
        log.info("administrator created", email=email)
        return True


async def bootstrap(resources: Resources) -> None:
    settings = resources.settings
    await seed_rbac(resources.sessionmaker)
    if settings.admin_email and settings.admin_password:
        try:
            await create_admin(
                resources,
                settings.admin_email.lower(),
                settings.admin_username,
                settings.admin_password.get_secret_value(),
            )
        except InvalidInput as exc:
            # A configuration mistake: retrying cannot fix it, so say it once, loudly.
            log.error("ADMIN_PASSWORD was rejected; no administrator created", reason=exc.detail)
