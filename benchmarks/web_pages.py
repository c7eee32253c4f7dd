"""Speed of the web app's pages on a 3,000-patient registry: every page under 200 ms.

Run: ``PYTHONPATH=src python -m benchmarks.web_pages [--copies 82] [--repeat 15]``. The registry
is the synthetic demo registry copied 82 times with renamed identifiers (3,034 patients, 56,000
rows; ``benchmarks.registry_import.replicate``), imported through the audited write path. The
real server (uvicorn in a thread on a loopback port) is timed through HTTP (httpx), after its
start-up work (whole-registry derivation, data-quality check) has finished; each page is asked
``--repeat`` times and the median and the slowest are printed, wall clock. A patient page is
timed on patients not visited before, from the start-up derivation (``patient``), right after
a form of the app changed the patient (``patient, after its form``: the form derived it again),
and right after a write from outside the app (``patient, changed outside``: the first view
derives that patient alone; the app's watcher then re-derives the registry in the background).
The writes (a scan added through the audited path) are forms, not pages: timed for information.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

GOAL_MS = 200.0


def _serve(db: Path, workdir: Path):  # type: ignore[no-untyped-def]
    import uvicorn

    from rtoutcomes.web import WebConfig, create_app

    app = create_app(WebConfig(db=str(db), workdir=workdir, check_in_process=True))  # as serve
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    state = app.state.web
    start = time.perf_counter()
    while not (state.derived.tried and state.quality.report and not state.quality.checking):
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, state, time.perf_counter() - start


def _time(client, url: str) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def main() -> None:
    import httpx

    from benchmarks.registry_import import replicate
    from rtoutcomes.registry import import_registry

    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=82)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = replicate(args.copies, folder / "csv")
        t0 = time.perf_counter()
        import_registry(folder / "csv", folder / "registry.db")
        t_import = time.perf_counter() - t0
        url, server, state, t_ready = _serve(folder / "registry.db", folder / "runs")
        with state.connect() as connection:
            from rtoutcomes.web import queries

            patients = queries.table_counts(connection)["patients"]
        print(f"registry: {patients} patients, {rows} rows (import {t_import:.1f} s); "
              f"server ready after {t_ready:.1f} s of start-up work")
        pages = {
            "overview": lambda i: "/",
            "patient search, all": lambda i: "/patients",
            "patient search, text": lambda i: f"/patients?q=myxo&page={1 + i % 3}",
            "patient search, filters": lambda i: "/patients?setting=recurrence&status=dead",
            "patient search, page 40": lambda i: "/patients?page=40",
            "patient": lambda i: f"/patients/DEMO-P{1 + i % 37:03d}-{i + 1}",
            "record": lambda i: f"/records/assessments/DEMO-A{1 + i:04d}-{i}",
            "history": lambda i: "/history",
            "studies": lambda i: "/studies",
            "import": lambda i: "/import",
        }
        results: dict[str, list[float]] = {}
        with httpx.Client(base_url=url, timeout=60) as client:
            for name, path in pages.items():
                _time(client, path(0))  # templates compiled, connections warm
                results[name] = [_time(client, path(i)) for i in range(args.repeat)]
            token = re.search(r'name="csrf_token" value="([^"]+)"',
                              client.get("/import").text).group(1)  # type: ignore[union-attr]
            writes, changed = [], []
            for i in range(min(args.repeat, 5)):
                pid, lesion = f"DEMO-P002-{50 + i}", f"DEMO-L002-{50 + i}"
                start = time.perf_counter()
                response = client.post(f"/patients/{pid}/add/assessments", data={
                    "csrf_token": token, "assessment_id": f"BENCH-{i}", "lesion_id": lesion,
                    "assessment_date": "2010-11-20", "modality": "CT",
                    "longest_diameter_mm": "40"})
                writes.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 303, response.text[:500]
                changed.append(_time(client, f"/patients/{pid}"))
            results["patient, after its form"] = changed
            outside = []
            from rtoutcomes.registry.changes import ChangeSet, apply_changes

            for i in range(min(args.repeat, 5)):
                pid, lesion = f"DEMO-P003-{60 + i}", f"DEMO-L003-{60 + i}"
                apply_changes(str(folder / "registry.db"), ChangeSet(rows={"lesions": [
                    {"lesion_id": lesion, "size_cm": 3.3}]}), reason="benchmark",
                    command="benchmark: a write from outside the app")
                outside.append(_time(client, f"/patients/{pid}"))
            results["patient, changed outside"] = outside
        server.should_exit = True
    print(f"{'page':<26} {'median ms':>10} {'max ms':>8}  goal {GOAL_MS:.0f} ms")
    for name, times in results.items():
        ok = "ok" if max(times) < GOAL_MS else "SLOW"
        print(f"{name:<26} {statistics.median(times):>10.1f} {max(times):>8.1f}  {ok}")
    print(f"{'(form) add a scan':<26} {statistics.median(writes):>10.1f} {max(writes):>8.1f}  "
          "audited write of the whole-registry checks; not a page")


if __name__ == "__main__":
    main()
