"""Speed of the web app's pages on a 3,000-patient registry: every page under 200 ms.

Run: ``PYTHONPATH=src python -m benchmarks.web_pages [--copies 82] [--repeat 15]``. The registry
is the synthetic demo registry copied 82 times with renamed identifiers (3,034 patients, 56,000
rows; ``benchmarks.registry_import.replicate``), imported through the audited write path. The
server is ``rtoutcomes serve`` itself, in its own process, asked through HTTP (httpx) once its
start-up work (whole-registry derivation, data-quality check) is done. For each page, asked
``--repeat`` times, the median and slowest wall time are printed, and the median CPU time the
server process spent on it (from /proc: robust to other jobs on a shared machine, where wall
time is not). A patient page is timed on patients not visited before, from the start-up
derivation (``patient``), right after a form of the app changed the patient (``patient, after
its form``: the form derived it again), and right after a write from outside the app
(``patient, changed outside``: the first view derives that patient alone). The writes (a scan
added through the audited path) are forms, not pages: timed for information.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_MS = 200.0
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: Path, workdir: Path) -> tuple[str, subprocess.Popen[bytes], float]:
    import httpx

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rtoutcomes",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--workdir",
            str(workdir),
        ],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    while True:
        try:
            httpx.get(url, timeout=5)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    idle = 0
    while idle < 3:  # start-up work done: the server stays idle for 3 s
        before = _cpu_s(process.pid)
        time.sleep(1)
        idle = idle + 1 if _cpu_s(process.pid) - before < 0.05 else 0
    return url, process, time.perf_counter() - start - 3


def _time(client, pid: int, url: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    cpu = _cpu_s(pid)
    start = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, (_cpu_s(pid) - cpu) * 1000


def main() -> None:
    import httpx

    from benchmarks.registry_import import replicate
    from rtoutcomes.registry.changes import ChangeSet, apply_changes
    from rtoutcomes.registry.importer import import_registry

    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=82)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = replicate(args.copies, folder / "csv")
        db = folder / "registry.db"
        import_registry(folder / "csv", db)
        url, process, t_ready = _serve(db, folder / "runs")
        pid = process.pid
        print(
            f"registry: {37 * args.copies} patients, {rows} rows; server ready after "
            f"{t_ready:.1f} s of start-up work"
        )
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
        results: dict[str, list[tuple[float, float]]] = {}
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                for name, path in pages.items():
                    _time(client, pid, path(0))  # templates compiled
                    results[name] = [_time(client, pid, path(i)) for i in range(args.repeat)]
                found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/import").text)
                assert found is not None
                writes, after_form, outside = [], [], []
                for i in range(min(args.repeat, 5)):
                    pid_, lesion = f"DEMO-P002-{50 + i}", f"DEMO-L002-{50 + i}"
                    start = time.perf_counter()
                    response = client.post(
                        f"/patients/{pid_}/add/assessments",
                        data={
                            "csrf_token": found.group(1),
                            "assessment_id": f"BENCH-{i}",
                            "lesion_id": lesion,
                            "assessment_date": "2010-11-20",
                            "modality": "CT",
                            "longest_diameter_mm": "40",
                        },
                    )
                    writes.append(((time.perf_counter() - start) * 1000, 0.0))
                    assert response.status_code == 303, response.text[:500]
                    after_form.append(_time(client, pid, f"/patients/{pid_}"))
                for i in range(min(args.repeat, 5)):
                    pid_, lesion = f"DEMO-P003-{60 + i}", f"DEMO-L003-{60 + i}"
                    apply_changes(
                        db,
                        ChangeSet(rows={"lesions": [{"lesion_id": lesion, "size_cm": 3.3}]}),
                        reason="benchmark",
                        command="benchmark: a write from outside the app",
                    )
                    outside.append(_time(client, pid, f"/patients/{pid_}"))
                results["patient, after its form"] = after_form
                results["patient, changed outside"] = outside
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"{'page':<26} {'median ms':>10} {'max ms':>8} {'CPU ms':>7}  goal {GOAL_MS:.0f} ms")
    for name, times in results.items():
        wall = [w for w, _ in times]
        cpu = statistics.median(c for _, c in times)
        ok = "ok" if statistics.median(wall) < GOAL_MS and cpu < GOAL_MS else "SLOW"
        print(f"{name:<26} {statistics.median(wall):>10.1f} {max(wall):>8.1f} {cpu:>7.0f}  {ok}")
    wall = [w for w, _ in writes]
    print(
        f"{'(form) add a scan':<26} {statistics.median(wall):>10.1f} {max(wall):>8.1f} "
        f"{'':>7}  the audited write path (whole-registry checks); not a page"
    )


if __name__ == "__main__":
    main()
