"""Small async factories for tests: organisations, signed-in users, valid credit codes."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from uuid import UUID

from govbuy import auth, service
from govbuy.schemas import OrganisationCreate, OrganisationRead, UserCreate, UserRead
from govbuy.uscc import USCC_ALPHABET as ALPHABET, make_uscc

_counter = itertools.count(1)

# The organisation-type prefix each kind is registered with (GB 32100-2015, first two chars).
USCC_PREFIX = {"vendor": "52", "evaluator": "91", "bureau": "11", "supervisor": "11", "platform": "91"}
PASSWORD = "correct horse battery staple"


def uscc(prefix: str = "52", region: str = "440300") -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(9))
    return make_uscc(prefix + region + body)


async def organisation(kind: str, name: str | None = None, *, region_code: str = "440300", code: str | None = None) -> OrganisationRead:
    n = next(_counter)
    return await service.create_organisation(
        None,
        OrganisationCreate(
            name=name or f"{kind} organisation {n}",
            kind=kind,  # type: ignore[arg-type]
            uscc=code or uscc(USCC_PREFIX[kind], region_code),
            region_code=region_code,
        ),
    )


@dataclass
class SignedIn:
    user: UserRead
    organisation_id: UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def id(self) -> UUID:
        return self.user.id


ROLE_KIND = auth.ROLE_ORGANISATION_KIND


async def signed_in(role: str, org: OrganisationRead | UUID | None = None, username: str | None = None) -> SignedIn:
    if org is None:
        org = await organisation(ROLE_KIND[role])
    org_id = org if isinstance(org, UUID) else org.id
    user = await service.create_user(
        None,
        UserCreate(username=username or f"{role}{next(_counter)}", password=PASSWORD, organisation_id=org_id, role=role),  # type: ignore[arg-type]
    )
    token, _ = auth.issue_token(user.id, auth.utcnow())
    return SignedIn(user, org_id, token)


# --- procurement ----------------------------------------------------------------------------

_shared_hash: str | None = None


def actor(who: SignedIn):
    """The service-level Actor of a signed-in test user."""
    from govbuy.audit import Actor

    return Actor(who.user.id, who.user.username, who.user.role, who.organisation_id, ROLE_KIND[who.user.role])


async def many_signed_in(role: str, n: int, *, name_prefix: str | None = None) -> list[SignedIn]:
    """n users of `role`, each in an organisation of its own. They share one password hash (of
    PASSWORD), so that fifty vendors do not cost fifty argon2 rounds."""
    from uuid import uuid4

    from govbuy import clock
    from govbuy import database as db

    global _shared_hash
    if _shared_hash is None:
        _shared_hash = await auth.hash_password(PASSWORD)
    people = []
    for _ in range(n):
        number = next(_counter)
        org = await organisation(ROLE_KIND[role], f"{name_prefix} {number}" if name_prefix else None)
        user_id = uuid4()
        await db.execute(
            """INSERT INTO users (id, username, password_hash, organisation_id, role, created_at)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            user_id,
            f"{role}{number}",
            _shared_hash,
            org.id,
            role,
            await clock.now(),
        )
        user = await service.get_user(user_id)
        token, _ = auth.issue_token(user.id, auth.utcnow())
        people.append(SignedIn(user, org.id, token))
    return people


async def published_catalogue(bureau: SignedIn, *, year: int | None = None) -> tuple[UUID, UUID]:
    """A published catalogue of the bureau's region (this year by default) with one branch
    A → A01 → A0101; returns (catalogue id, id of the level-3 item A0101)."""
    from govbuy import clock
    from procurement import service as procurement
    from procurement.schemas import CatalogueCreate, CatalogueItemCreate

    who = actor(bureau)
    region = (await service.get_organisation(bureau.organisation_id)).region_code
    year = year or (await clock.today()).year
    catalogue = await procurement.create_catalogue(who, CatalogueCreate(region_code=region, year=year, title=f"{year} 指导性目录"))
    item = None
    for code, name in (("A", "基本公共服务"), ("A01", "养老服务"), ("A0101", "居家养老上门服务")):
        item = await procurement.add_catalogue_item(who, catalogue.id, CatalogueItemCreate(code=code, name=name))
    await procurement.publish_catalogue(who, catalogue.id, None)
    assert item is not None
    return catalogue.id, item.id


async def budget_line(bureau: SignedIn, amount: str = "5000000.00", *, year: int | None = None, code: str | None = None):
    """A budget line of the bureau (this year by default)."""
    from decimal import Decimal

    from govbuy import clock
    from procurement import service as procurement
    from procurement.schemas import BudgetLineCreate

    year = year or (await clock.today()).year
    return await procurement.create_budget_line(
        actor(bureau),
        BudgetLineCreate(code=code or f"2130{next(_counter):04d}", year=year, title="社区养老服务经费", amount=Decimal(amount)),
    )
