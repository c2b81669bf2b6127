"""The process's own metrics (Prometheus): counters and histograms each process keeps in memory.

Other modules increment them here, e.g. ``metrics.LOGIN_THROTTLED.labels(scope="account").inc()``.
What the database knows (the bus's backlog, the periodic jobs' record) is not counted here but read
when ``/metrics`` is scraped (``linzhang.monitoring``), so every process answers the same for it.
Counters kept here are per process: with several ``linzhang serve`` processes, sum them in the query
(``sum(rate(linzhang_http_requests_total[5m]))``); a restart starts them from zero, which ``rate``
handles. See docs/operations.md, "Metrics".
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, gc_collector, platform_collector, process_collector

# Every process metric lives in this registry (not the library's global one), so that what /metrics
# serves is exactly the project's metrics plus the database's, and tests can read it.
PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)
process_collector.ProcessCollector(registry=PROCESS_REGISTRY)
platform_collector.PlatformCollector(registry=PROCESS_REGISTRY)
gc_collector.GCCollector(registry=PROCESS_REGISTRY)

# Request latency buckets in seconds: from a cached read to a large export.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Periodic job buckets in seconds: an empty sweep to a catch-up over 100,000 tasks.
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)

HTTP_REQUESTS = Counter(
    "linzhang_http_requests",
    "HTTP requests answered, by method, route template (e.g. /api/v1/tasks/{task_id}) and status.",
    ["method", "route", "status"],
    registry=PROCESS_REGISTRY,
)
HTTP_LATENCY = Histogram(
    "linzhang_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=_HTTP_BUCKETS,
    registry=PROCESS_REGISTRY,
)
JOB_DURATION = Histogram(
    "linzhang_job_duration_seconds",
    "Duration of the periodic jobs this process ran (escalation.sweep, bus.purge), by job and outcome.",
    ["job", "outcome"],
    buckets=_JOB_BUCKETS,
    registry=PROCESS_REGISTRY,
)
LOGIN_THROTTLED = Counter(
    "linzhang_login_throttled",
    "Login attempts refused by the throttle (429), by what was throttled: account or address.",
    ["scope"],
    registry=PROCESS_REGISTRY,
)
LOGIN_FAILURES = Counter(
    "linzhang_login_failures",
    "Login attempts with a wrong username or password.",
    registry=PROCESS_REGISTRY,
)

# A route label for requests that matched no route, so that scanners cannot add label values at will.
UNMATCHED_ROUTE = "<unmatched>"
