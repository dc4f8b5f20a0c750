"""GET /metrics: Prometheus' text format, behind METRICS_TOKEN, summed over worker processes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from oneenglish.app import create_app
from oneenglish.settings import Settings
from tests.factories import TestUser, logged_in
from tests.helpers import eventually, pg_execute
from tests.processes import ApiProcess

TOKEN = "metrics-" + "s" * 40
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


@pytest.fixture(scope="module")
async def app(migrated: Settings) -> AsyncIterator[FastAPI]:
    """This module's API: metrics on, gauges sampled often."""
    settings = migrated.model_copy(
        update={"metrics_token": SecretStr(TOKEN), "metrics_sample_seconds": 0.05}
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


async def test_the_metrics_need_the_scrapers_token(client: httpx.AsyncClient, app: FastAPI) -> None:
    learner = await logged_in(app, client)
    for headers in ({}, {"Authorization": "Bearer wrong"}, learner.headers):
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "oneenglish_" not in response.text


async def test_without_a_token_configured_there_are_no_metrics(migrated: Settings) -> None:
    application = create_app(migrated)
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        response = await client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 404
    assert "METRICS_TOKEN" in response.json()["detail"]


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient, learner: TestUser
) -> None:
    before = await scrape(client)
    stranger = uuid.uuid4()
    for _ in range(3):
        assert (
            await client.get(f"/api/users/{stranger}", headers=learner.headers)
        ).status_code in (
            403,
            404,
        )
    assert (
        await client.get(f"/api/users/{learner.id}", headers=learner.headers)
    ).status_code == 200
    assert (await client.get("/no/such/path")).status_code == 404
    after = await scrape(client)

    route = "/api/users/{user_id}"
    refused = sum(
        value(after, "oneenglish_http_requests_total", method="GET", route=route, status=s)
        - value(before, "oneenglish_http_requests_total", method="GET", route=route, status=s)
        for s in ("403", "404")
    )
    assert refused == 3
    ok = ("oneenglish_http_requests_total", {"method": "GET", "route": route, "status": "200"})
    assert value(after, ok[0], **ok[1]) - value(before, ok[0], **ok[1]) == 1
    unmatched = {"method": "GET", "route": "(unmatched)", "status": "404"}
    assert value(after, ok[0], **unmatched) - value(before, ok[0], **unmatched) == 1
    # The raw path, with its id, is never a label: one series per template, not per learner.
    assert not any(str(stranger) in str(labels) for (_name, labels) in after)
    count = ("oneenglish_http_request_duration_seconds_count", {"method": "GET", "route": route})
    assert value(after, count[0], **count[1]) - value(before, count[0], **count[1]) == 4


async def test_database_calls_are_timed_per_database_and_operation(
    client: httpx.AsyncClient, learner: TestUser
) -> None:
    before = await scrape(client)
    # An account read: PostgreSQL, and the profile and settings documents in MongoDB.
    assert (
        await client.get(f"/api/users/{learner.id}", headers=learner.headers)
    ).status_code == 200
    after = await scrape(client)
    name = "oneenglish_db_operation_duration_seconds_count"
    assert total(after, name, database="postgresql") > total(before, name, database="postgresql")
    finds = value(after, name, database="mongodb", operation="find") - value(
        before, name, database="mongodb", operation="find"
    )
    assert finds >= 2
    assert value(after, name, database="postgresql", operation="select") > 0


async def test_the_saga_backlog_is_read_at_each_scrape(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    samples = await scrape(client)
    assert value(samples, "oneenglish_saga_backlog_readable") == 1
    waiting = value(samples, "oneenglish_saga_backlog", status="pending")
    # A saga not due for an hour: pending, and nothing runs it during the test.
    await pg_execute(
        app,
        "INSERT INTO sagas (id, kind, payload, next_attempt_at, created_at) "
        "VALUES (:id, 'metrics-test', '{}', now() + interval '1 hour', now() - interval '90 s')",
        id=str(uuid.uuid4()),
    )
    samples = await scrape(client)
    assert value(samples, "oneenglish_saga_backlog", status="pending") == waiting + 1
    assert value(samples, "oneenglish_saga_oldest_age_seconds", status="pending") >= 90
    assert value(samples, "oneenglish_saga_backlog", status="failed") == 0


async def test_gauges_show_the_pool_the_log_queues_and_the_sockets(
    client: httpx.AsyncClient,
) -> None:
    async def sampled() -> bool:
        samples = await scrape(client)
        return value(samples, "oneenglish_db_pool_connections", pool="app", state="open") >= 1

    assert await eventually(sampled)
    samples = await scrape(client)
    for log in ("user_activities", "error_logs"):
        assert ("oneenglish_log_queue_depth", frozenset({("log", log)})) in samples
    assert ("oneenglish_websocket_connections", frozenset()) in samples


async def test_several_workers_are_summed_in_every_scrape(migrated: Settings) -> None:
    """Two worker processes behind one port: whichever answers the scrape reports both."""
    api = ApiProcess(migrated, metrics_token=TOKEN, workers=2)
    api.start()
    try:
        # Two spawned workers import the application each: slow on a loaded 2-core machine.
        await api.wait_ready(attempts=900)
        async with httpx.AsyncClient(base_url=api.url, timeout=10) as client:
            # A connection each, so that either worker may accept it (they share one socket).
            for _ in range(40):
                async with httpx.AsyncClient(base_url=api.url, timeout=10) as fresh:
                    assert (await fresh.get("/health")).status_code == 200
            seen = set()
            workers: set[str] = set()
            for _ in range(6):
                response = await client.get("/metrics", headers=SCRAPER)
                assert response.status_code == 200, response.text
                samples = parse(response.text)
                served = value(
                    samples,
                    "oneenglish_http_requests_total",
                    method="GET",
                    route="/health",
                    status="200",
                )
                # wait_ready's probes are counted too: at least the 40.
                seen.add(served)
                assert served >= 40
                workers |= {
                    dict(labels)["pid"]
                    for (name, labels) in samples
                    if name == "oneenglish_worker_up"
                }
            # Each scrape merges both processes' files, and reports the same sum whichever
            # worker answers it.
            assert len(workers) == 2
            assert len(seen) == 1
    finally:
        api.stop()
