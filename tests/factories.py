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
