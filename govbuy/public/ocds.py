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
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

OCDS_VERSION = "1.1"

# The extensions applied, by their folder under settings.ocds_schema_dir, with the URL of the
# extension.json each folder is a copy of (bids and transaction_milestones from their master
# branch, metrics from its 1.1 branch, as the extension registry lists them). The order is the
# order their patches are applied: transaction_milestones refers to metrics' MilestoneReference.
EXTENSIONS: dict[str, str] = {
    "bids": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/master/extension.json",
    "metrics": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_metrics_extension/1.1/extension.json",
    "transaction_milestones": "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_transactions_relatedMilestone_extension/master/extension.json",
    "partyScale": "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_partyDetails_scale_extension/master/extension.json",
}
# Extensions the package ships itself (govbuy/public/extensions, see its README), used instead
# of the schema folder's: an enterprise's scale (财库〔2020〕46号 declarations).
PACKAGED_EXTENSIONS = Path(__file__).resolve().parent / "extensions"


def extension_dir(schema_dir: Path, name: str) -> Path:
    shipped = PACKAGED_EXTENSIONS / name
    return shipped if shipped.is_dir() else schema_dir / "extensions" / name

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
        if current.get("tender") != previous.get("tender") or current.get("bids") != previous.get("bids"):
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


@lru_cache(maxsize=4)
def _merge_rules(schema_dir: str) -> tuple[frozenset[str], frozenset[str]]:
    """(fields omitted when merging, fields whose lists are replaced whole) from the schema."""
    schema = release_schema(Path(schema_dir))
    omit = frozenset(k for k, v in schema["properties"].items() if v.get("omitWhenMerged"))
    whole: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.get("properties", {}).items():
                if isinstance(value, dict) and value.get("wholeListMerge"):
                    whole.add(key)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return omit, frozenset(whole)


def _merge(target: dict[str, Any], update: Mapping[str, Any], whole_lists: frozenset[str]) -> None:
    for key, value in update.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            _merge(current, value, whole_lists)
        elif isinstance(value, list):
            identified = value and all(isinstance(i, dict) and "id" in i for i in value)
            if key in whole_lists or not identified or not isinstance(target.get(key), list):
                target[key] = copy.deepcopy(value)
                continue
            merged = target[key]
            index = {str(i.get("id")): i for i in merged if isinstance(i, dict)}
            for item in value:
                existing = index.get(str(item["id"]))
                if existing is None:
                    existing = {}
                    merged.append(existing)
                    index[str(item["id"])] = existing
                _merge(existing, item, whole_lists)
        else:
            target[key] = value


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)



def compile_releases(releases: Sequence[Mapping[str, Any]], schema_dir: Path) -> dict[str, Any]:
    """The compiled release of one process: releases merged oldest first (OCDS merge rules:
    later values win, null removes, arrays of objects with ids merge by id, other arrays and
    the schema's wholeListMerge arrays are replaced)."""
    if not releases:
        raise ValueError("no releases to compile")
    omit, whole_lists = _merge_rules(str(schema_dir))
    ordered = sorted(enumerate(releases), key=lambda pair: (_instant(pair[1]["date"]), pair[0]))
    compiled: dict[str, Any] = {}
    for _, release in ordered:
        _merge(compiled, {k: v for k, v in release.items() if k not in omit}, whole_lists)
    latest = ordered[-1][1]
    return {"ocid": latest["ocid"], "id": f"{latest['id']}-compiled", "date": latest["date"], "tag": ["compiled"], **{k: v for k, v in compiled.items() if k != "ocid"}}


# --- packages -------------------------------------------------------------------------------


def publisher(name: str) -> dict[str, Any]:
    return {"name": name}


#: The package's additional field with the audit chain's published head ({seq, hash,
#: publishedDate}): the package schema allows additional fields (docs/ocds.md).
AUDIT_HEAD_FIELD = "x_govbuy_auditHead"


def _metadata(uri: str, published_date: str, publisher_name: str, audit_head: Mapping[str, Any] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": list(EXTENSIONS.values()),
        "publishedDate": published_date,
        "publisher": publisher(publisher_name),
    }
    if audit_head is not None:
        metadata[AUDIT_HEAD_FIELD] = dict(audit_head)
    return metadata


def release_package(
    releases: Sequence[Mapping[str, Any]],
    *,
    uri: str,
    published_date: str,
    publisher_name: str,
    next_uri: str | None = None,
    audit_head: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    package = {**_metadata(uri, published_date, publisher_name, audit_head), "releases": list(releases)}
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
    publisher_name: str,
    schema_dir: Path,
    audit_head: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        **_metadata(uri, published_date, publisher_name, audit_head),
        "records": [{"ocid": ocid, "releases": list(releases), "compiledRelease": compile_releases(releases, schema_dir)}],
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


@lru_cache(maxsize=4)
def release_schema(schema_dir: Path) -> dict[str, Any]:
    """The official release schema with every declared extension's patch applied."""
    schema = _load(schema_dir / "release-schema.json")
    for name in EXTENSIONS:
        schema = merge_patch(schema, _load(extension_dir(schema_dir, name) / "release-schema.json"))
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


@lru_cache(maxsize=4)
def _validators(schema_dir: Path) -> dict[str, Any]:
    from jsonschema import Draft4Validator
    from referencing import Registry
    from referencing.exceptions import NoSuchResource
    from referencing.jsonschema import DRAFT4

    def no_network(uri: str):
        raise NoSuchResource(ref=uri)  # every schema is local: never fetch one

    release = release_schema(schema_dir)
    documents = {
        "release": release,
        "release_package": _load(schema_dir / "release-package-schema.json"),
        "record_package": _load(schema_dir / "record-package-schema.json"),
        "versioned_release": _load(schema_dir / "versioned-release-validation-schema.json"),
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


def _errors(kind: str, document: Any, schema_dir: Path) -> list[str]:
    validator = _validators(Path(schema_dir))[kind]
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def validate_release(release: Any, schema_dir: Path) -> list[str]:
    """Every way a release breaks the release schema (with the extensions), as messages."""
    return _errors("release", release, schema_dir)


def validate_release_package(package: Any, schema_dir: Path) -> list[str]:
    return _errors("release_package", package, schema_dir)


def validate_record_package(package: Any, schema_dir: Path) -> list[str]:
    return _errors("record_package", package, schema_dir)
