#!/usr/bin/env python3
"""A small mutation check of the core rules: each curated mutation of the statistics, RECIST,
BED, import and reporting code must make the test suite fail.

First every test file used passes on the unmutated code (else the check stops). Then, for each
mutation, the script edits one source file (an exact text replacement that must occur
exactly once), runs the tests that cover it, restores the file, and reports whether the tests
caught it. The file is always restored, also on Ctrl-C. Results: docs/mutation-check.md.

    python scripts/mutation_check.py            # all mutations
    python scripts/mutation_check.py epv-boundary recist-confirmation   # some
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # under src/rtoutcomes
    old: str
    new: str
    tests: tuple[str, ...]  # the tests to run (paths under tests/, or -k expressions)
    why: str


MUTATIONS = (
    Mutation(
        "import-table-by-table",
        "registry/changes.py",
        "            connection.execute(REGISTRY_TABLES[spec.name].insert(), rows)\n",
        "            connection.execute(REGISTRY_TABLES[spec.name].insert(), rows)\n"
        "            connection.commit()\n",
        ("tests/registry/test_import_transaction.py",),
        "the import commits table by table instead of in one transaction",
    ),
    Mutation(
        "import-refusal-removed",
        "registry/importer.py",
        "require_empty=True",
        "require_empty=False",
        ("tests/registry/test_import.py",),
        "an import into a registry that holds data is no longer refused",
    ),
    Mutation(
        "recist-confirmation",
        "clinical/recist.py",
        "next_meets[:-1] = meets[idx[1:]] & same_lesion_next[:-1]",
        "next_meets[:-1] = meets[idx[1:]]",
        ("tests/test_thresholds.py", "tests/test_recist.py"),
        "RECIST confirmation taken from another lesion's scan",
    ),
    Mutation(
        "recist-20-percent",
        "clinical/local_failure.py",
        "(d >= ref * (1.0 + self.min_increase_fraction) - 1e-9)",
        "(d > ref * (1.0 + self.min_increase_fraction) + 1e-9)",
        ("tests/test_thresholds.py", "tests/test_recist.py"),
        "growth of exactly 20 % no longer counts",
    ),
    Mutation(
        "recist-5-mm",
        "clinical/local_failure.py",
        "& (d - ref >= self.min_increase_mm - 1e-9)",
        "",
        ("tests/test_thresholds.py", "tests/test_recist.py"),
        "the 5 mm absolute growth is no longer required",
    ),
    Mutation(
        "epv-boundary",
        "study/analysis.py",
        "if epv < MIN_EVENTS_PER_VARIABLE:",
        "if epv <= MIN_EVENTS_PER_VARIABLE:",
        ("tests/test_thresholds.py",),
        "exactly 10 events per variable warns",
    ),
    Mutation(
        "p-format-boundary",
        "report/fmt.py",
        '    if p < 0.001:\n        return "<0.001"',
        '    if p <= 0.001:\n        return "<0.001"',
        ("tests/test_thresholds.py",),
        "p = 0.001 printed as <0.001",
    ),
    Mutation(
        "ph-alpha-boundary",
        "study/summaries.py",
        "return p_global < PH_ALPHA",
        "return p_global <= PH_ALPHA",
        ("tests/test_thresholds.py",),
        "a PH test at exactly p = 0.05 warns",
    ),
    Mutation(
        "bed-formula",
        "clinical/radiobiology.py",
        "lq = d * (1.0 + d / alpha_beta_gy)",
        "lq = d * (1.0 + d * alpha_beta_gy)",
        ("tests/clinical/test_radiobiology.py",),
        "BED = nd(1 + d/(alpha/beta)) broken",
    ),
    Mutation(
        "km-greenwood",
        "stats/_kaplan_meier.py",
        "d / (n_risk * (n_risk - d))",
        "d / (n_risk * n_risk)",
        ("tests/stats/test_kaplan_meier_vs_r.py",),
        "the Greenwood variance term",
    ),
    Mutation(
        "logrank-expected",
        "stats/_logrank.py",
        "expected = risk @ (weight * d / n)",
        "expected = risk @ (weight * d / (n + 1))",
        ("tests/stats/test_logrank_vs_r.py",),
        "the log-rank expected counts",
    ),
    Mutation(
        "cox-efron",
        "study/summaries.py",
        'ties: Literal["efron", "breslow"] = "breslow" if options.ties == "breslow" else "efron"',
        'ties: Literal["efron", "breslow"] = "breslow"',
        ("tests/test_study_lung_vs_r.py",),
        "the study's Cox models always use Breslow ties",
    ),
    Mutation(
        "bed10-cut",
        "study/standard.py",
        'cut_in="upper"',
        'cut_in="lower"',
        ("tests/test_thresholds.py",),
        "BED10 of exactly 100 Gy counted in <100 Gy",
    ),
    Mutation(
        "recist-pr-30-percent",
        "clinical/recist.py",
        "pr = diameter <= base * (1.0 - PR_DECREASE_FRACTION) + 1e-9",
        "pr = diameter < base * (1.0 - PR_DECREASE_FRACTION) - 1e-9",
        ("tests/test_thresholds.py",),
        "a decrease of exactly 30 % no longer a partial response",
    ),
    Mutation(
        "competing-death-within",
        "clinical/endpoints.py",
        "gap <= settings.competing_death_within + 1e-9",
        "gap < settings.competing_death_within - 1e-9",
        ("tests/test_thresholds.py",),
        "a death exactly competing_death_within after the last scan not competing",
    ),
    Mutation(
        "disclosure-min-cell",
        "federated/site.py",
        "if 0 < n < policy.min_cell",
        "if 0 < n <= policy.min_cell",
        ("tests/test_thresholds.py",),
        "a level held by exactly min_cell rows suppressed at a centre",
    ),
    Mutation(
        "disclosure-min-rows",
        "federated/site.py",
        "if n < policy.min_rows:",
        "if n <= policy.min_rows:",
        ("tests/test_thresholds.py",),
        "a centre with exactly min_rows usable rows refused",
    ),
    Mutation(
        "lost-to-follow-up",
        "study/cohort.py",
        "lost = alive & (gap_days > after_days)",
        "lost = alive & (gap_days >= after_days)",
        ("tests/test_thresholds.py",),
        "a last contact exactly lost_to_follow_up_after before the cut-off counted lost",
    ),
)


def _pytest(tests: tuple[str, ...], *, show_failure: bool = False) -> bool:
    """Whether ``tests`` pass (``show_failure``: print the end of pytest's report if not)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and show_failure:
        print("\n".join(result.stdout.splitlines()[-15:]), file=sys.stderr)
    return result.returncode == 0


def run(mutation: Mutation) -> tuple[bool, float]:
    path = ROOT / "src" / "rtoutcomes" / mutation.path
    original = path.read_text(encoding="utf-8")
    if original.count(mutation.old) != 1:
        raise SystemExit(
            f"{mutation.name}: the text to mutate occurs "
            f"{original.count(mutation.old)} times in {mutation.path}"
        )
    start = time.perf_counter()
    try:
        path.write_text(original.replace(mutation.old, mutation.new), encoding="utf-8")
        caught = not _pytest(mutation.tests)
    finally:
        path.write_text(original, encoding="utf-8")
    return caught, time.perf_counter() - start


def main(names: list[str]) -> int:
    chosen = [m for m in MUTATIONS if not names or m.name in names]
    # baseline: the unmutated code passes every test set (else "caught" would mean nothing)
    tests = sorted({t for m in chosen for t in m.tests})
    broken = [t for t in tests if not _pytest((t,), show_failure=True)]
    if broken:
        raise SystemExit(f"these tests fail without any mutation: {', '.join(broken)}")
    survived = []
    print("| mutation | what it breaks | caught | seconds |\n|---|---|---|---|")
    for mutation in chosen:
        caught, seconds = run(mutation)
        if not caught:
            survived.append(mutation.name)
        print(
            f"| `{mutation.name}` | {mutation.why} | {'yes' if caught else '**NO**'} | "
            f"{seconds:.0f} |",
            flush=True,
        )
    print(
        f"\n{len(chosen) - len(survived)} of {len(chosen)} mutations caught"
        + (f"; survived: {', '.join(survived)}" if survived else "")
    )
    return 1 if survived else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
