"""A request's unit of work is committed before its response leaves the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from api.context import AppContext
from tests.api.conftest import create_staff_headers, make_client
from tests.databases import fresh_database_url


def test_the_commit_happens_before_the_response_is_sent(tmp_path: Path, weights_cache: Path) -> None:
    """Otherwise a client could be told "done" (or follow a redirect and see the old state) while
    the commit is still to come, and might yet fail.

    The worker is off: its idle poll commits on the same session factory, and one landing during
    the request would be counted with the request's own commits.
    """
    database_url = fresh_database_url()
    app = make_client(tmp_path / "var", weights_cache, database_url=database_url, worker_enabled=False).app
    order: list[str] = []

    async def recording_app(scope: Any, receive: Any, send: Any) -> None:
        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                order.append("response sent")
            await send(message)

        await app(scope, receive, recording_send)

    with TestClient(recording_app, base_url="http://127.0.0.1") as client:
        context: AppContext = app.state.context
        headers = create_staff_headers(database_url, "admin")
        event.listen(context.factory, "after_commit", lambda _session: order.append("commit"))
        response = client.get("/api/v1/overdue", headers=headers)  # an endpoint with SessionDep
    assert response.status_code == 200, response.text
    # The staff check's unit of work, then the endpoint's, then the response.
    assert order == ["commit", "commit", "response sent"], order
