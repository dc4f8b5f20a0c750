from __future__ import annotations

from typing import Annotated

from fastapi import Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from oneenglish.accounts import service as accounts
from oneenglish.auth import service
from oneenglish.auth.dependencies import AnonymousActor, CurrentActor, CurrentUser
from oneenglish.auth.schemas import ChangePasswordIn, LoginIn, MeOut, RefreshIn, TokenPair
from oneenglish.core.dependencies import AppSettings, UserAgent
from oneenglish.core.routing import ApiRouter
from oneenglish.db.postgres import DbSession
from oneenglish.idempotency.dependencies import AnonymousIdempotencyKey
from oneenglish.rbac.defaults import SELF_SIGN_UP_ROLE
from oneenglish.sagas.dependencies import Sagas
from oneenglish.users import service as users
from oneenglish.users.schemas import RegisterIn, UserOut
from oneenglish.workflows.register_user import register_user

router = ApiRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Self sign-up (gets the student role)",
    description="Creates the user in PostgreSQL and its profile and settings in MongoDB; 201 "
    "only when all three exist. If MongoDB is unavailable: 503 and nothing is kept.",
    responses={
        409: {"description": "Email or username already registered"},
        429: {"description": "Too many sign-ups from this address (Retry-After)"},
        503: {"description": "A database is unavailable; nothing was created"},
    },
)
async def register(
    body: RegisterIn,
    db: DbSession,
    sagas: Sagas,
    actor: AnonymousActor,
    idempotent: AnonymousIdempotencyKey,
) -> UserOut:
    return await register_user(
        db,
        sagas,
        actor,
        users.NewUser.from_input(body),
        [SELF_SIGN_UP_ROLE],
        self_sign_up=True,
        idempotent=idempotent,
    )


@router.post(
    "/login",
    summary="Log in with email or username",
    responses={401: {"description": "Wrong credentials"}, 429: {"description": "Throttled"}},
)
async def login(
    body: LoginIn, db: DbSession, settings: AppSettings, actor: AnonymousActor, agent: UserAgent
) -> TokenPair:
    return await service.login(db, settings, body.identifier, body.password, actor, agent)


@router.post(
    "/token",
    summary="OAuth2 password flow (the Authorize button of /docs)",
    description="`username` may be the username or the email.",
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: DbSession,
    settings: AppSettings,
    actor: AnonymousActor,
    agent: UserAgent,
) -> TokenPair:
    return await service.login(db, settings, form.username, form.password, actor, agent)


@router.post("/refresh", summary="Exchange a refresh token for a new pair (rotation)")
async def refresh(
    body: RefreshIn, db: DbSession, settings: AppSettings, actor: AnonymousActor
) -> TokenPair:
    return await service.refresh(db, settings, actor, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
async def logout(principal: CurrentUser, actor: CurrentActor, db: DbSession) -> None:
    await service.logout(db, principal, actor)


@router.post(
    "/logout-all", status_code=status.HTTP_204_NO_CONTENT, summary="End every session of mine"
)
async def logout_all(principal: CurrentUser, actor: CurrentActor, db: DbSession) -> None:
    await service.logout_everywhere(db, principal, actor)


@router.get("/me", summary="The caller, with roles and effective permissions")
async def me(principal: CurrentUser, db: DbSession) -> MeOut:
    user = await users.get_user_unchecked(db, principal.id)
    return MeOut(**user.model_dump(), permissions=sorted(principal.permissions))


@router.post(
    "/change-password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password; ends every session, including this one",
    description="Also ends every password reset link, and the account's address is told by mail.",
)
async def change_password(
    body: ChangePasswordIn,
    principal: CurrentUser,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
) -> None:
    await accounts.change_password(
        db, settings, principal, actor, body.current_password, body.new_password
    )
