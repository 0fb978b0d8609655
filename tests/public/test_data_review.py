"""The OCDS data review library (libcoveocds, what the Data Review Tool runs) over every
package of a whole process's feed and over its record: no schema error, no additional-check
warning, every code in its codelist, every declared extension fetched and applied.

Offline, as ../shared/ocds-1.1/README.md explains: the standard comes from its zip, and the
extensions' URLs are answered, inside this test only, from the copies the package ships
(a requests transport adapter), and the standard's schema URLs that the record package schema
refers to from the zip; any other request fails the test."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

from govbuy.public import feed, ocds
from govbuy.settings import ROOT
from tests.public import support as s
from tests.public.test_scenario import run

STANDARD_ZIP = ROOT.parent / "shared" / "ocds-1.1" / "standard-1__1__5.zip"
STANDARD_URL = "https://standard.open-contracting.org/schema/1__1__5/"


def _extension_folders() -> dict[str, Path]:
    """URL prefix of each declared extension (and of the ones they name as dependencies) → its copy."""
    folders = {url.removesuffix("extension.json"): ocds.extension_dir(name) for name, url in ocds.EXTENSIONS.items()}
    for folder in list(folders.values()):
        for dependency in json.loads((folder / "extension.json").read_text()).get("dependencies", []):
            repository = urlsplit(dependency).path.split("/")[2]
            folders.setdefault(dependency.removesuffix("extension.json"), next(
                f for url, f in folders.items() if urlsplit(url).path.split("/")[2] == repository
            ))
    return folders


def _archive(folder: Path, top: str) -> bytes:
    """A folder as GitHub archives a repository: a zip with one top-level folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{top}/", "")  # first, as GitHub's: the reader takes the prefix from it
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(folder)}")
    return buffer.getvalue()


class ExtensionCopies(BaseAdapter):
    """Answers the extensions' URLs from the shipped copies, and the standard's schema URLs from
    its zip; refuses everything else."""

    def __init__(self) -> None:
        super().__init__()
        self.folders = _extension_folders()
        self.refused: list[str] = []

    def send(self, request, **kwargs):
        for prefix, folder in self.folders.items():
            if request.url.startswith(prefix):
                path = folder / request.url.removeprefix(prefix)
                return self._answer(request, path.read_bytes() if path.is_file() else None)
            # The registry library downloads a GitHub ref whole, as the archive of the repository.
            _, owner, repository, ref = urlsplit(prefix).path.rstrip("/").split("/")
            if request.url == f"https://github.com/{owner}/{repository}/archive/{ref}.zip":
                return self._answer(request, _archive(folder, f"{repository}-{ref}"))
        if request.url.startswith(STANDARD_URL):  # the record package schema's $ref
            with zipfile.ZipFile(STANDARD_ZIP) as standard:
                name = "standard-1__1__5/schema/" + request.url.removeprefix(STANDARD_URL)
                return self._answer(request, standard.read(name) if name in standard.namelist() else None)
        self.refused.append(request.url)
        raise requests.ConnectionError(f"no network in this test: {request.url}")

    @staticmethod
    def _answer(request, content: bytes | None):
        raw = HTTPResponse(
            body=io.BytesIO(content or b""), status=404 if content is None else 200,
            reason="Not Found" if content is None else "OK", preload_content=False, request_url=request.url,
        )
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


@pytest.fixture
def extension_copies(monkeypatch):
    adapter = ExtensionCopies()
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    from ocdsextensionregistry import util

    util.session.cache.clear()
    yield adapter


def review(package: dict) -> dict:
    from libcoveocds.api import ocds_json_output
    from libcoveocds.config import LibCoveOCDSConfig

    config = LibCoveOCDSConfig({"standard_zip": STANDARD_ZIP.as_uri(), "additional_checks": "all", "context": "api"})
    return ocds_json_output("", json_data=package, schema_version="1.1", lib_cove_ocds_config=config)


# Additional fields on purpose (docs/ocds.md): the package's `links` (OCDS 1.2) and audit chain
# head, a milestone's `value` (OCDS 1.2), an observation's grade among its free-form dimensions.
DELIBERATE_ADDITIONAL_FIELDS = {
    ("", "links"), ("", ocds.AUDIT_HEAD_FIELD), ("/contracts/implementation/milestones", "value"),
    ("/contracts/implementation/metrics/observations/dimensions", "grade"),
}


def _where(path: str) -> str:
    """A field's path without the package's own prefix (releases, records, compiledRelease)."""
    for prefix in ("/releases", "/records/releases", "/records/compiledRelease"):
        if path.startswith(prefix + "/"):
            return path.removeprefix(prefix)
    return path


def assert_passes_review(result: dict, what: str) -> None:
    assert result["validation_errors"] == [], (what, result["validation_errors"])
    assert not result["additional_checks"], (what, result["additional_checks"])
    assert not result["deprecated_fields"], (what, result["deprecated_fields"])
    assert not result["additional_closed_codelist_values"], (what, result["additional_closed_codelist_values"])
    # Open codelists: only the platform's own item classification scheme (the guidance catalogue).
    assert {v for c in result["additional_open_codelist_values"].values() for v in c["values"]} <= {"x_govbuy_catalogue"}, what
    additional = {(_where(f["path"]), f["field"]) for f in result["additional_fields"]}
    assert additional <= DELIBERATE_ADDITIONAL_FIELDS, (what, additional - DELIBERATE_ADDITIONAL_FIELDS)
    extensions = result["extensions"]
    assert not extensions["invalid_extension"], (what, extensions["invalid_extension"])
    assert [e["url"] for e in extensions["extensions"]] == list(ocds.EXTENSIONS.values()), what
    assert not any(e["failed_codelists"] for e in extensions["extensions"]), what
    assert extensions["is_extended_schema"], what


async def test_every_package_of_a_whole_process_passes_the_data_review(client, extension_copies):
    scenario = await run(client)
    _, _, packages = await s.read_feed(client, limit=3)
    reviewed = [p for p in packages if p["releases"]]
    record = await s.record(client, feed.ocid_of(scenario.process.id))
    for number, package in enumerate([*reviewed, record]):
        assert_passes_review(review(package), f"package {number}")
    assert len(reviewed) >= 5
    assert extension_copies.refused == []
