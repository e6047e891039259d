"""The terminal summary: a table per level and family, the failures, what was restored."""

from __future__ import annotations

from collections import Counter

from conformance.results import Outcome, RunResults

COLUMNS = (Outcome.PASS, Outcome.FAIL, Outcome.NOT_TESTED, Outcome.INFO)


def render_summary(results: RunResults, max_failures: int = 20) -> str:
    target = results.target
    lines = [
        f"IPSIS conformance of {target.base_url} ({target.kind}"
        + (f", faults: {', '.join(target.faults)}" if target.faults else "")
        + f"); LE latest {target.latest_version}; versions tested: {', '.join(target.versions_tested) or '-'}",
        f"seed {results.seed}; {results.request_count} requests; {results.throttled_count} throttled (429, retried)",
        "",
    ]
    counts: Counter[tuple[str, str, Outcome]] = Counter((r.level, r.family, r.outcome) for r in results.results)
    rows = sorted(
        {(level, family) for level, family, _ in counts},
        key=lambda lf: (("MUST", "SHOULD", "INFO").index(lf[0]), lf[1]),
    )
    header = f"{'level':<7} {'family':<12}" + "".join(f"{o.value:>11}" for o in COLUMNS)
    lines += [header, "-" * len(header)]
    for level, family in rows:
        lines.append(f"{level:<7} {family:<12}" + "".join(f"{counts[(level, family, o)]:>11}" for o in COLUMNS))
    failures = [r for r in results.results if r.outcome is Outcome.FAIL]
    if failures:
        lines += ["", "Failures:"]
        for result in failures[:max_failures]:
            lines.append(f"  [{result.level}] {result.case_id}: {result.message}")
        if len(failures) > max_failures:
            lines.append(f"  ... and {len(failures) - max_failures} more in results.json")
    if results.restored:
        ok = sum(item.restored for item in results.restored)
        lines += ["", f"Restored {ok} of {len(results.restored)} changed fixtures:"]
        lines += [
            f"  {'ok ' if i.restored else 'FAILED '} {i.resource} at {i.version} {i.message}" for i in results.restored
        ]
    verdict = results.verdict.value.upper()
    reason = f" ({results.inconclusive_reason})" if results.inconclusive_reason else ""
    lines += ["", f"Verdict: {verdict}{reason}"]
    return "\n".join(lines)
