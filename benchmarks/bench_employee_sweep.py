"""How much one sweep of employees costs: requests, time, memory, and the rate-limit budget.

Serves a generated company of N employees (pages of 100, embedded job positions) from a
loopback werkzeug server, and sweeps it with ``LuccaOAuthClient.employees.list()``:

* requests sent (expected: 1 token + ceil(N / 100) pages),
* wall time and employees per second with throttling off (the client's own overhead),
* peak traced memory while streaming (should stay flat as N grows),
* the time the same sweep takes at the default 40 requests/min, measured on an injected
  clock (the limiter's real behaviour, without waiting for it).

Run: ``.venv/bin/python benchmarks/bench_employee_sweep.py [N ...]``
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from lucca_cards import LuccaOAuthClient, RateLimiter

PAGE = 100


def _employee(i: int, host: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ref = {"id": str(10_000 + i), "type": "job-position", "url": f"{host}/jp/{i}"}
    employee = {
        "id": str(i), "type": "employee", "url": f"{host}/lucca-api/employees/{i}",
        "givenName": f"Given{i}", "familyName": f"Family{i}", "email": f"e{i}@acme.test",
        "status": "active", "remoteId": None, "employeeNumber": f"E{i:06d}",
        "applicableJobPosition": ref,
        "applicableEmployment": {"id": str(i), "type": "employment", "url": f"{host}/e/{i}"},
    }
    job = {"id": ref["id"], "type": "job-position", "url": ref["url"],
           "department": {"id": str(i % 40), "type": "department", "url": f"{host}/d"}}
    return employee, job


class Company:
    """A WSGI app serving N generated employees with cursor paging."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.requests = 0
        self.host = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests += 1
        if request.path == "/connect/token":
            body: dict[str, Any] = {"access_token": "t", "token_type": "Bearer",
                                    "expires_in": 1800}
        else:
            start = int(parse_qs(request.query_string.decode()).get("page", ["0"])[0])
            items, jobs = zip(*(_employee(i, self.host)
                                for i in range(start, min(start + PAGE, self.size))))
            following = start + PAGE
            body = {
                "type": "employees", "url": request.url, "items": list(items),
                "embedded": {"job-position": {j["id"]: j for j in jobs}},
                "links": {"prev": None, "next": None if following >= self.size else {
                    "href": f"{self.host}/lucca-api/employees?page={following}"
                            f"&limit={PAGE}&include=links,embedded"}},
            }
        return Response(json.dumps(body), content_type="application/json")(
            environ, start_response)


def serve(app: Company) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.host = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield app.host
    finally:
        server.shutdown()


def sweep(size: int) -> dict[str, float]:
    app = Company(size)
    for host in serve(app):
        client = LuccaOAuthClient(base_url=host, client_id="bench", client_secret="bench",
                                  token_url=f"{host}/connect/token",
                                  rate_limiter=RateLimiter(0))
        tracemalloc.start()
        started = time.perf_counter()
        count = sum(1 for employee in client.employees.list() if employee.department_id)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        client.close()
        assert count == size, (count, size)
    throttled = _throttled_seconds(app.requests)
    return {"employees": size, "requests": app.requests, "seconds": elapsed,
            "per_second": size / elapsed, "peak_kib": peak / 1024,
            "seconds_at_40_per_min": throttled}


def _throttled_seconds(requests: int) -> float:
    """Fake-clock time the limiter needs for ``requests`` calls at 40/min."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(40, clock=lambda: now[0], sleep=sleep)
    for _ in range(requests):
        limiter.acquire()
    return now[0]


def main(argv: list[str]) -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per page
    sizes = [int(a) for a in argv] or [1_000, 10_000, 50_000]
    print(f"{'employees':>10} {'requests':>9} {'seconds':>8} {'empl/s':>8} "
          f"{'peak KiB':>9} {'at 40/min':>10}")
    for size in sizes:
        r = sweep(size)
        print(f"{r['employees']:>10.0f} {r['requests']:>9.0f} {r['seconds']:>8.2f} "
              f"{r['per_second']:>8.0f} {r['peak_kib']:>9.0f} "
              f"{r['seconds_at_40_per_min']:>9.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
