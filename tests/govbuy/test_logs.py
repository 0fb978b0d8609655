"""The two log formats, line by line: JSON (the default) and text (GOVBUY_LOG_FORMAT=text).
The running service's log as a whole is checked in tests/security/test_logs.py."""

from __future__ import annotations

import json
import logging
import re
from uuid import uuid4

from govbuy import logs
from govbuy.audit import Actor
from govbuy.settings import Settings


def _format(formatter: logging.Formatter, request: logs.RequestContext | None, message: str = "hello %s") -> str:
    record = logging.LogRecord("govbuy.test", logging.WARNING, __file__, 1, message, ("world",), None)
    token = logs.current_request.set(request)
    try:
        logs.RequestContextFilter().filter(record)
    finally:
        logs.current_request.reset(token)
    return formatter.format(record)


def _request(actor: Actor | None = None) -> logs.RequestContext:
    return logs.RequestContext("req-42", {"path_template": "/api/v1/tenders/{tender_id}", "user": actor})


def test_json_is_the_default_format_and_text_is_a_setting(monkeypatch):
    monkeypatch.delenv("GOVBUY_LOG_FORMAT", raising=False)
    assert Settings().log_format == "json"
    monkeypatch.setenv("GOVBUY_LOG_FORMAT", "text")
    assert Settings().log_format == "text"
    assert logs.logging_config("INFO", "text")["formatters"]["govbuy"]["()"] is logs.TextFormatter
    assert logs.logging_config("INFO", "json")["formatters"]["govbuy"]["()"] is logs.JsonFormatter


def test_a_json_line_in_a_request_carries_its_id_user_organisation_and_route():
    actor = Actor(uuid4(), "vendor-1", "vendor", uuid4(), "vendor")
    line = json.loads(_format(logs.JsonFormatter(), _request(actor)))
    assert line == {
        "time": line["time"], "level": "WARNING", "logger": "govbuy.test", "message": "hello world",
        "request_id": "req-42", "user_id": str(actor.user_id), "organisation_id": str(actor.organisation_id),
        "route": "/api/v1/tenders/{tender_id}",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])


def test_a_json_line_outside_a_request_has_no_request_fields():
    assert json.loads(_format(logs.JsonFormatter(), None)).keys() == {"time", "level", "logger", "message"}


def test_the_text_format_is_one_readable_line_with_the_request_id():
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING govbuy\.test \[req-42\] hello world", _format(logs.TextFormatter(), _request())
    )
    assert "[-] hello world" in _format(logs.TextFormatter(), None)


def test_both_formats_scrub_a_token_from_the_message():
    for formatter in (logs.JsonFormatter(), logs.TextFormatter()):
        line = _format(formatter, None, "refused %s")
        assert "world" in line
        scrubbed = _format(formatter, None, "refused Bearer abc.def.ghi %s")
        assert "abc.def.ghi" not in scrubbed and "[redacted]" in scrubbed


def test_chinese_stays_readable_in_json():
    assert "开标" in _format(logs.JsonFormatter(), None, "开标 %s")
