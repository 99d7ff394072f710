"""Villagers' phone numbers and names never reach the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from api.redaction import REDACTED, install, pii_values, redact
from tests.api.conftest import make_client, wait_until_processed

PHONE = "13912345678"
NAME = "王秀英"


@pytest.mark.parametrize(
    "text",
    [
        "call 13912345678 back",
        "call +86 139 1234 5678 back",
        "call 139-1234-5678 back",
        "landline 0571-87654321",
        "landline (0571) 8765 4321",
        "GET /x?phone=13912345678 HTTP/1.1",
    ],
)
def test_phone_numbers_are_redacted(text: str) -> None:
    cleaned = redact(text)
    assert REDACTED in cleaned
    assert not any(ch.isdigit() for ch in cleaned.split("[redacted]")[0][-3:])


def test_the_receipts_rating_link_is_redacted_in_access_log_lines() -> None:
    line = '127.0.0.1:5100 - "GET /track/7K3F-9QMB/Zx0_qP-4mTr8wL2kVb7YhA?lang=en HTTP/1.1" 200'
    cleaned = redact(line)
    assert "Zx0_qP-4mTr8wL2kVb7YhA" not in cleaned
    assert f"/track/7K3F-9QMB/{REDACTED}?lang=en" in cleaned
    receipt = '127.0.0.1:5100 - "GET /receipt/7K3F-9QMB/Zx0_qP-4mTr8wL2kVb7YhA HTTP/1.1" 200'
    assert redact(receipt) == f'127.0.0.1:5100 - "GET /receipt/7K3F-9QMB/{REDACTED} HTTP/1.1" 200'
    for path in (
        "/track/7K3F-9QMB/rating",
        "/track/7K3F-9QMB/fixed",
        "/api/v1/track/7K3F-9QMB/satisfaction",
        "/track/7K3F-9QMB",
    ):
        assert redact(f'"POST {path} HTTP/1.1"') == f'"POST {path} HTTP/1.1"'


def test_ordinary_numbers_stay() -> None:
    ordinary = (
        "job 42 attempt 3",
        "took 2.37 s",
        "suggestion 12345",
        "2026-11-23 00:12:01",
        "192.168.10.100",
    )
    for text in ordinary:
        assert redact(text) == text


def test_records_are_cleaned_whichever_logger_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    install()
    log = logging.getLogger("minsheng.test")
    with pii_values(NAME, PHONE), caplog.at_level(logging.INFO):
        log.info("note from %s (%s), %d attempts", NAME, PHONE, 3)
        try:
            raise ValueError(f"bad row for {NAME}")
        except ValueError:
            log.exception("failed")
    log.info("later: %s", NAME)  # outside the request: a bare name cannot be recognised, a phone can
    assert NAME not in caplog.text.split("later")[0] and PHONE not in caplog.text
    assert "3 attempts" in caplog.text and "bad row for [redacted]" in caplog.text


def test_a_submission_leaves_no_phone_or_name_in_any_log(
    tmp_path: Path, weights_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # An operator debugging the database turns SQL logging on: row values must still not show.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with make_client(tmp_path, weights_cache) as client:
        response = client.post(
            "/api/v1/suggestions",
            data={
                "text": "村口的路灯坏了一个月了，晚上很黑。",
                "name": NAME,
                "phone": PHONE,
                "village": "河西村",
            },
        )
        assert response.status_code == 202
        body = wait_until_processed(client, response.json()["id"])
        assert body["contact"] == {
            "name": NAME,
            "phone": PHONE,
            "address": None,
            "latitude": None,
            "longitude": None,
        }
        bad = client.post(
            "/api/v1/suggestions", data={"text": "x", "name": NAME, "phone": PHONE, "latitude": "95"}
        )
        assert bad.status_code == 422
    assert "INSERT INTO suggestions" in caplog.text  # SQL logging really was on
    assert PHONE not in caplog.text and NAME not in caplog.text
