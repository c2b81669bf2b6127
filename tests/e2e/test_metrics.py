"""GET /metrics: Prometheus text for administrators; every metric the operations guide's alerts read."""

from __future__ import annotations

import re
import socket
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry, publish
from linzhang.bus.scheduler import PeriodicJob
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.container import Container
from linzhang.identity import Role
from linzhang.metrics import LOGIN_THROTTLED
from linzhang.monitoring import last_covered_year, start_metrics_listener
from linzhang.settings import Settings
from tests.support.bus import SampleRecorded
from tests.support.world import Api, add_user, api_client, seed_tree

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def api(container: Container) -> Iterator[Api]:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    add_user(container, "city-office", Role.OFFICE, "50")
    with api_client(container) as api:
        yield api


def scrape(api: Api) -> tuple[set[str], Samples]:
    response = api.client.get("/metrics", headers={"authorization": f"Bearer {api.token('admin')}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def parse(text: str) -> tuple[set[str], Samples]:
    families, samples = set(), {}
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return families, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_metrics_need_an_administrator(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 401
    office = api.client.get("/metrics", headers={"authorization": f"Bearer {api.token('city-office')}"})
    assert office.status_code == 403
    assert "/metrics" not in api.client.get("/schema/openapi.json").json()["paths"]


def test_requests_are_counted_by_route_template_and_status(api: Api) -> None:
    _, before = scrape(api)
    route = "/api/v1/jurisdictions/{code}"
    key = ("linzhang_http_requests_total", frozenset({"method": "GET", "route": route, "status": "200"}.items()))
    missing = ("linzhang_http_requests_total", frozenset({"method": "GET", "route": route, "status": "404"}.items()))
    for code in ("50", "500101", "500102"):
        assert api.get(f"/jurisdictions/{code}", "admin").status_code == 200
    assert api.get("/jurisdictions/999", "admin").status_code == 404
    assert api.client.get("/no/such/page/12345").status_code == 404

    _, after = scrape(api)

    assert after[key] - before.get(key, 0) == 3
    assert after[missing] - before.get(missing, 0) == 1
    # Raw paths never become labels; an unknown path is counted under one label.
    assert not any("500101" in dict(labels).get("route", "") for _, labels in after)
    assert not any("12345" in dict(labels).get("route", "") for _, labels in after)
    assert any(dict(labels).get("route") == "<unmatched>" for _, labels in after)
    count = ("linzhang_http_request_duration_seconds_count", frozenset({"method": "GET", "route": route}.items()))
    assert after[count] - before.get(count, 0) == 4


def test_bus_backlog_per_subscriber_from_the_database(api: Api, container: Container) -> None:
    container.registry.subscribe("test.metrics", SampleRecorded, lambda _session, _event: None)
    with container.transaction() as session:
        publish(session, SampleRecorded(key="a"), SampleRecorded(key="b"), SampleRecorded(key="c"))
    old = datetime.now(UTC) - timedelta(minutes=5)
    with container.engine.begin() as connection:
        samples = select(e.c.position).where(e.c.event_type == "SampleRecorded").order_by(e.c.position)
        positions = list(connection.execute(samples).scalars())
        connection.execute(update(e).where(e.c.position == positions[0]).values(occurred_at=old))
        connection.execute(update(d).where(d.c.event_position == positions[1]).values(status="dead"))
        connection.execute(update(d).where(d.c.event_position == positions[2]).values(status="sent"))

    _, samples = scrape(api)

    assert value(samples, "linzhang_bus_deliveries", subscriber="test.metrics", status="pending") == 1
    assert value(samples, "linzhang_bus_deliveries", subscriber="test.metrics", status="dead") == 1
    assert value(samples, "linzhang_bus_deliveries", subscriber="test.metrics", status="sent") == 1
    # Every subscriber is listed, with zeros when it owes nothing.
    assert value(samples, "linzhang_bus_deliveries", subscriber="chiefs.inbox", status="dead") == 0
    age = value(samples, "linzhang_bus_oldest_pending_age_seconds", subscriber="test.metrics")
    assert 5 * 60 <= age < 10 * 60
    assert value(samples, "linzhang_database_up") == 1


def test_periodic_jobs_are_reported_from_the_shared_record(api: Api, container: Container) -> None:
    bus = container.bus
    sweep = next(job for job in bus.jobs if job.name == "escalation.sweep")
    bus.run_job(sweep)
    bus.run_job(sweep)

    def broken() -> None:
        raise RuntimeError("the sweep's database is gone")

    bus.run_job(PeriodicJob("escalation.sweep", 60, broken))

    _, samples = scrape(api)

    assert value(samples, "linzhang_job_runs_total", job="escalation.sweep") == 3
    assert value(samples, "linzhang_job_failures_total", job="escalation.sweep") == 1
    assert value(samples, "linzhang_job_items_total", job="escalation.sweep") == 0
    success = value(samples, "linzhang_job_last_success_timestamp_seconds", job="escalation.sweep")
    failure = value(samples, "linzhang_job_last_failure_timestamp_seconds", job="escalation.sweep")
    assert 0 < success <= failure
    assert value(samples, "linzhang_job_duration_seconds_count", job="escalation.sweep", outcome="failed") >= 1
    assert value(samples, "linzhang_job_duration_seconds_count", job="escalation.sweep", outcome="ok") >= 2


SWEEP_METRICS = (
    "linzhang_sweep_runs_total",
    "linzhang_sweep_failures_total",
    "linzhang_sweep_escalated_total",
    "linzhang_sweep_last_duration_seconds",
    "linzhang_sweep_last_success_timestamp_seconds",
    "linzhang_sweep_last_failure_timestamp_seconds",
)


def test_the_sweep_has_metrics_of_its_own_zero_before_its_first_run(api: Api, container: Container) -> None:
    _, samples = scrape(api)
    assert {name: value(samples, name) for name in SWEEP_METRICS} == dict.fromkeys(SWEEP_METRICS, 0)

    bus = container.bus
    sweep = next(job for job in bus.jobs if job.name == "escalation.sweep")
    bus.run_job(sweep)  # the real sweep: nothing is overdue, nothing escalated
    bus.run_job(PeriodicJob("escalation.sweep", 60, lambda: 3))  # a run that escalated three tasks

    def broken() -> None:
        raise RuntimeError("the sweep's database is gone")

    bus.run_job(PeriodicJob("escalation.sweep", 60, broken))
    # Another job's runs are not the sweep's.
    bus.run_job(next(job for job in bus.jobs if job.name == "bus.purge"))

    _, samples = scrape(api)
    assert value(samples, "linzhang_sweep_runs_total") == 3
    assert value(samples, "linzhang_sweep_failures_total") == 1
    assert value(samples, "linzhang_sweep_escalated_total") == 3
    assert value(samples, "linzhang_sweep_last_duration_seconds") > 0
    success = value(samples, "linzhang_sweep_last_success_timestamp_seconds")
    failure = value(samples, "linzhang_sweep_last_failure_timestamp_seconds")
    assert 0 < success <= failure


def test_login_throttling_counter_and_calendar_coverage(api: Api, container: Container) -> None:
    _, before = scrape(api)
    LOGIN_THROTTLED.labels(scope="account").inc()
    _, after = scrape(api)
    key = ("linzhang_login_throttled_total", frozenset({"scope": "account"}.items()))
    assert after[key] - before.get(key, 0) == 1
    year = value(after, "linzhang_calendar_last_covered_year")
    assert year == last_covered_year(container) >= 2026


def alert_rules_text() -> str:
    """The alert rules block of the operations guide, without its comment lines."""
    text = OPERATIONS.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(# linzhang alert rules.*?)```", text, re.S)
    assert block, "docs/operations.md has no alert rules block"
    rules = "\n".join(line for line in block.group(1).splitlines() if not line.strip().startswith("#"))
    assert rules.count("- alert:") >= 4
    return rules


def test_every_metric_the_alert_rules_read_is_exported(api: Api, container: Container) -> None:
    bus = container.bus
    for job in bus.jobs:
        bus.run_job(job)
    families, samples = scrape(api)
    exported = families | {name for name, _ in samples}

    read = set(re.findall(r"\blinzhang_\w+", alert_rules_text()))

    assert {
        "linzhang_bus_deliveries",
        "linzhang_bus_oldest_pending_age_seconds",
        "linzhang_sweep_last_success_timestamp_seconds",
        "linzhang_sweep_last_failure_timestamp_seconds",
        "linzhang_calendar_last_covered_year",
    } <= read
    assert read - exported == set()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_separate_metrics_port_needs_no_token(settings: Settings, registry: SubscriberRegistry) -> None:
    port = free_port()
    container = bootstrap(
        msgspec.structs.replace(settings, metrics=msgspec.structs.replace(settings.metrics, port=port))
    )
    server = start_metrics_listener(container)
    try:
        assert server is not None
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            families, _ = parse(response.read().decode())
        assert {"linzhang_bus_deliveries", "linzhang_http_requests", "linzhang_database_up"} <= families
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        container.close()


def test_without_a_port_no_listener_starts(container: Container) -> None:
    assert container.settings.metrics.port == 0
    assert start_metrics_listener(container) is None
