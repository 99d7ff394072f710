"""Publishing jobs to a real (private) Redis: no duplicates between racing sweepers, nothing lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from intake.broker import BrokerQueue, make_celery
from models.db import unit_of_work
from models.jobs import queue as job_queue
from models.jobs.tables import Job
from tests.api.nodes import RedisServer

QUEUE = "minsheng-test"


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server on a free port."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


def _queue(factory: sessionmaker[Session], server: RedisServer, batch: int = 500) -> BrokerQueue:
    app = make_celery(server.url, queue=QUEUE, visibility_timeout=60, connect_timeout=1)
    return BrokerQueue(factory, app, QUEUE, stale=timedelta(minutes=30), batch=batch)


def _waiting(server: RedisServer) -> int:
    return int(redis.Redis(port=server.port).llen(QUEUE))


def _jobs(factory: sessionmaker[Session], n: int) -> list[int]:
    with unit_of_work(factory) as session:
        return [job_queue.enqueue(session, "k", None).id for _ in range(n)]


def test_racing_sweepers_publish_each_job_once(
    db_factory: sessionmaker[Session], redis_server: RedisServer
) -> None:
    ids = _jobs(db_factory, 20)
    sweepers = [_queue(db_factory, redis_server, batch=3) for _ in range(3)]  # several batches each
    sent: list[int] = []
    threads = [threading.Thread(target=lambda q=q: sent.append(q.sweep())) for q in sweepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(sent) == len(ids)
    assert _waiting(redis_server) == len(ids)
    assert sum(q.sweep() for q in sweepers) == 0  # every job is carried by a message now


def test_a_job_submitted_while_redis_is_down_is_published_by_the_next_sweep(
    db_factory: sessionmaker[Session], redis_server: RedisServer
) -> None:
    queue = _queue(db_factory, redis_server)
    redis_server.kill()
    [job_id] = _jobs(db_factory, 1)
    queue.submitted(job_id)  # logs, never raises: the upload has already been accepted
    with db_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.state == "queued" and job.published_at is None
    with pytest.raises(Exception, match="onnect"):
        queue.sweep()
    redis_server.start()
    assert queue.sweep() == 1
    assert _waiting(redis_server) == 1
