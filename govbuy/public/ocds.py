"""Open Contracting Data Standard 1.1, the standard's side: the ocid, the release tags (what
changed since a process's previous release), the merge of releases into a compiled release,
release and record packages, and validation against the official schemas with the declared
extensions applied.

Pure (no database). The release itself is made from govbuy's rows by `ocds_mapping`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ocdsmerge

OCDS_VERSION = "1.1"

# What the service needs of the standard at run time ships with the package (data files, see
# govbuy/public/schema/README.md and govbuy/public/extensions/README.md): the official 1.1.5
# schemas and the declared extensions' copies. Nothing is read from anywhere else.
DATA_DIR = Path(__file__).resolve().parent
SCHEMA_DIR = DATA_DIR / "schema"
EXTENSIONS_DIR = DATA_DIR / "extensions"
PUBLICATION_POLICY = DATA_DIR / "publication-policy.html"

_RAW = "https://raw.githubusercontent.com/open-contracting-extensions"

# The extensions applied, by their folder under EXTENSIONS_DIR, with the URL of the
# extension.json each folder is a copy of. The URLs name the commit the copies were taken at
# (no release tag of bids, metrics or transaction_milestones carries these files: see
# docs/ocds.md), so what a reader fetches is what the service validates against. The order is
# the order their patches are applied: transaction_milestones refers to metrics'
# MilestoneReference.
EXTENSIONS: dict[str, str] = {
    "bids": f"{_RAW}/ocds_bid_extension/1020d28fb1db1cd3b6752f497def1ec6ab4100c0/extension.json",
    "metrics": f"{_RAW}/ocds_metrics_extension/fad91df868907e339e5b3b4af5c334e02b80fa4f/extension.json",
    "transaction_milestones": f"{_RAW}/ocds_transactions_relatedMilestone_extension/"
    "37e65cd8df7b21d9d6c232e5835b2e4d3692d829/extension.json",
    "partyScale": f"{_RAW}/ocds_partyDetails_scale_extension/7078d04b258aa1c704e084e8a9283a762f9e5785/extension.json",
}


def extension_dir(name: str) -> Path:
    return EXTENSIONS_DIR / name


RELEASE_TAGS = (
    "planning", "planningUpdate", "tender", "tenderAmendment", "tenderUpdate", "tenderCancellation",
    "award", "awardUpdate", "awardCancellation", "contract", "contractUpdate", "contractAmendment",
    "implementation", "implementationUpdate", "contractTermination",
)  # fmt: skip


def ocid_for(prefix: str, tender_id: Any) -> str:
    return f"{prefix}-{tender_id}"


# --- tags -----------------------------------------------------------------------------------


def _by_id(items: Iterable[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    return {str(i["id"]): i for i in items or ()}


def release_tags(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """What changed since the previous release of the process, as releaseTag codes; empty when
    nothing did (then no release is published)."""
    tags: set[str] = set()
    if previous is None:
        tags.add("tender")
    else:
        amended = len(current.get("tender", {}).get("amendments", ())) > len(previous.get("tender", {}).get("amendments", ()))
        if amended:
            tags.add("tenderAmendment")
        elif current.get("tender") != previous.get("tender") or current.get("bids") != previous.get("bids"):
            was, now = previous.get("tender", {}).get("status"), current["tender"].get("status")
            tags.add("tenderCancellation" if now == "cancelled" and was != "cancelled" else "tenderUpdate")
        if current.get("planning") != previous.get("planning"):
            tags.add("tenderUpdate")
    before_awards = _by_id(previous.get("awards") if previous else None)
    for award_id, award in _by_id(current.get("awards")).items():
        old = before_awards.get(award_id)
        if old is None:
            tags.add("award")
        elif award != old:
            cancelled = award.get("status") == "cancelled" and old.get("status") != "cancelled"
            tags.add("awardCancellation" if cancelled else "awardUpdate")
    before_contracts = _by_id(previous.get("contracts") if previous else None)
    for contract_id, contract in _by_id(current.get("contracts")).items():
        old = before_contracts.get(contract_id)
        if old is None:
            tags.add("contract")
            continue
        body_changed = {k: v for k, v in contract.items() if k != "implementation"} != {
            k: v for k, v in old.items() if k != "implementation"
        }
        implementation, old_implementation = contract.get("implementation"), old.get("implementation")
        if implementation != old_implementation:
            if _has_progress(old_implementation):
                tags.add("implementationUpdate")
            elif _has_progress(implementation):
                tags.add("implementation")
            else:  # only the schedule changed (an amendment's new milestone amounts)
                body_changed = True
        if body_changed:
            specific = set()
            if len(contract.get("amendments", ())) > len(old.get("amendments", ())):
                specific.add("contractAmendment")
            if contract.get("status") == "terminated" and old.get("status") != "terminated":
                specific.add("contractTermination")
            tags |= specific or {"contractUpdate"}
    if previous is not None and not tags and current.get("parties") != previous.get("parties"):
        tags.add("tenderUpdate")
    return [t for t in RELEASE_TAGS if t in tags]


def _has_progress(implementation: Mapping[str, Any] | None) -> bool:
    """Whether an implementation section reports anything beyond the schedule."""
    if not implementation:
        return False
    if implementation.get("transactions") or implementation.get("metrics"):
        return True
    return any(m.get("status") != "scheduled" for m in implementation.get("milestones", ()))


def same_content(a: Mapping[str, Any] | None, b: Mapping[str, Any]) -> bool:
    """Whether two releases say the same thing (their id, date and tags aside)."""
    if a is None:
        return False
    strip = lambda r: {k: v for k, v in r.items() if k not in ("id", "date", "tag")}  # noqa: E731
    return strip(a) == strip(b)


# --- merging (OCDS 1.1 merge routine) -------------------------------------------------------


@lru_cache(maxsize=1)
def _merger() -> ocdsmerge.Merger:
    """The reference merge library, with the merge rules of the patched release schema (read once)."""
    return ocdsmerge.Merger(schema=release_schema())


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def compile_releases(releases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The compiled release of one process, by `ocdsmerge` (the OCDS reference implementation):
    releases in date order (ties in the order given), later values winning, null removing,
    arrays of objects with ids merged by id, other arrays and the schema's wholeListMerge
    arrays replaced. Its id is `{ocid}-{date of the newest release}`, its tag `compiled`."""
    if not releases:
        raise ValueError("no releases to compile")
    return _merger().create_compiled_release([dict(r) for r in releases])


# --- packages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Publisher:
    """Who publishes the packages, and under which terms (settings `ocds_*`, docs/ocds.md)."""

    name: str
    license: str
    publication_policy: str
    scheme: str | None = None  # org-id.guide list code of `uid`
    uid: str | None = None
    uri: str | None = None

    def metadata(self) -> dict[str, Any]:
        publisher = {"name": self.name, "scheme": self.scheme, "uid": self.uid, "uri": self.uri}
        return {
            "publisher": {k: v for k, v in publisher.items() if v},
            "license": self.license,
            "publicationPolicy": self.publication_policy,
        }


#: The package's additional field with the audit chain's published head ({seq, hash,
#: publishedDate}): the package schema allows additional fields (docs/ocds.md).
AUDIT_HEAD_FIELD = "x_govbuy_auditHead"


def _metadata(uri: str, published_date: str, publisher: Publisher, audit_head: Mapping[str, Any] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": list(EXTENSIONS.values()),
        "publishedDate": published_date,
        **publisher.metadata(),
    }
    if audit_head is not None:
        metadata[AUDIT_HEAD_FIELD] = dict(audit_head)
    return metadata


def release_package(
    releases: Sequence[Mapping[str, Any]],
    *,
    uri: str,
    published_date: str,
    publisher: Publisher,
    next_uri: str | None = None,
    audit_head: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    package = {**_metadata(uri, published_date, publisher, audit_head), "releases": list(releases)}
    if next_uri is not None:
        # OCDS 1.2's package `links`; in 1.1 an additional field, which the schema allows.
        package["links"] = {"next": next_uri}
    return package


def record_package(
    ocid: str,
    releases: Sequence[Mapping[str, Any]],
    *,
    uri: str,
    published_date: str,
    publisher: Publisher,
    audit_head: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        **_metadata(uri, published_date, publisher, audit_head),
        "records": [{"ocid": ocid, "releases": list(releases), "compiledRelease": compile_releases(releases)}],
    }


# --- schemas and validation -----------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON Merge Patch (RFC 7386), as OCDS applies an extension's release-schema.json."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=1)
def release_schema() -> dict[str, Any]:
    """The official release schema with every declared extension's patch applied."""
    schema = _load(SCHEMA_DIR / "release-schema.json")
    for name in EXTENSIONS:
        schema = merge_patch(schema, _load(extension_dir(name) / "release-schema.json"))
    return schema


_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def _format_checker():
    from jsonschema import FormatChecker

    checker = FormatChecker()

    @checker.checks("date-time")
    def is_date_time(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return False
        return True

    @checker.checks("uri")
    def is_uri(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in value

    return checker


@lru_cache(maxsize=1)
def _validators() -> dict[str, Any]:
    from jsonschema import Draft4Validator
    from referencing import Registry
    from referencing.exceptions import NoSuchResource
    from referencing.jsonschema import DRAFT4

    def no_network(uri: str):
        raise NoSuchResource(ref=uri)  # every schema is local: never fetch one

    release = release_schema()
    documents = {
        "release": release,
        "release_package": _load(SCHEMA_DIR / "release-package-schema.json"),
        "record_package": _load(SCHEMA_DIR / "record-package-schema.json"),
        "versioned_release": _load(SCHEMA_DIR / "versioned-release-validation-schema.json"),
    }
    registry = Registry(retrieve=no_network).with_resources(
        (doc["id"], DRAFT4.create_resource(doc)) for doc in documents.values()
    )
    checker = _format_checker()
    return {
        name: Draft4Validator(doc, registry=registry, format_checker=checker)
        for name, doc in documents.items()
        if name != "versioned_release"
    }


def _errors(kind: str, document: Any) -> list[str]:
    validator = _validators()[kind]
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def validate_release(release: Any) -> list[str]:
    """Every way a release breaks the release schema (with the extensions), as messages."""
    return _errors("release", release)


def validate_release_package(package: Any) -> list[str]:
    return _errors("release_package", package)


def validate_record_package(package: Any) -> list[str]:
    return _errors("record_package", package)
