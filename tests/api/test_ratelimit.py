"""Anonymous endpoints are limited per client address: 429 with a clear message and Retry-After."""

from __future__ import annotations

from pathlib import Path

from api.ratelimit import SlidingWindow
from tests.api.conftest import csrf_of, make_client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides() -> None:
    clock = Clock()
    window = SlidingWindow(limit=2, window=10.0, clock=clock)
    assert window.hit("a") is None
    clock.now += 4
    assert window.hit("a") is None
    assert window.hit("a") == 6.0  # the first hit leaves the window in 6 s
    assert window.hit("b") is None  # another client has its own count
    clock.now += 6
    assert window.hit("a") is None  # one slot free again
    assert window.hit("a") is not None


def test_zero_means_no_limit() -> None:
    window = SlidingWindow(limit=0, window=10.0)
    assert all(window.hit("a") is None for _ in range(1000))


def test_submissions_and_tracking_are_limited(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(
        tmp_path, weights_cache, worker_enabled=False, submit_rate_limit=3, track_rate_limit=2
    ) as client:
        codes = []
        for _ in range(3):
            response = client.post("/api/v1/suggestions", data={"text": "路灯坏了好几天了"})
            assert response.status_code == 202
            codes.append(response.json()["tracking_code"])
        refused = client.post(
            "/api/v1/suggestions", data={"text": "路灯坏了好几天了", "phone": "13812345678"}
        )
        assert refused.status_code == 429
        assert refused.json()["error"] == "TooManyRequests"
        assert "wait" in refused.json()["detail"] and "13812345678" not in refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 60

        assert client.get(f"/api/v1/track/{codes[0]}").status_code == 200
        assert client.get("/api/v1/track/ZZZZ-ZZZZ").status_code == 404  # misses count too: no guessing
        limited = client.get(f"/api/v1/track/{codes[1]}")
        assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_sign_in_attempts_are_limited(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(tmp_path, weights_cache, worker_enabled=False, login_rate_limit=2) as client:
        token = csrf_of(client.get("/login", headers={"accept": "text/html"}).text)
        form = {"username": "someone", "password": "guess guess", "csrf_token": token}
        assert [client.post("/login", data=form).status_code for _ in range(2)] == [401, 401]
        blocked = client.post("/login", data=form, headers={"accept": "text/html"})
        assert blocked.status_code == 429 and "Please wait" in blocked.text
        assert int(blocked.headers["retry-after"]) >= 1
