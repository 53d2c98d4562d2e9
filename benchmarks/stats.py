"""The benchmark's statistics: which rounds count, medians and quartiles, pair-by-pair ratios.

A round is {"round": n, "results": {contender: result dict}, "disturbed": reason or None} as
run.interleaved makes it; a result holds "samples_per_s", or "skipped" when its contender could not run.
"""

from __future__ import annotations

import statistics


def counted(rounds):
    """(the rounds that count, a sentence saying which were discarded). If every round was
    disturbed, all of them count and the sentence says so loudly."""
    quiet = [r for r in rounds if not r["disturbed"]]
    discarded = [f"round {r['round']} ({r['disturbed']})" for r in rounds if r["disturbed"]]
    if not discarded:
        return quiet, f"all {len(rounds)} rounds quiet"
    if not quiet:
        return rounds, f"EVERY ROUND DISTURBED, figures below are from disturbed rounds: {'; '.join(discarded)}"
    return quiet, f"{len(quiet)} of {len(rounds)} rounds quiet; discarded: {'; '.join(discarded)}"


def summary(values):
    """Median, quartiles (inclusive method), min, max and count of a list of numbers."""
    values = list(values)
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return {"median": median, "q1": q1, "q3": q3, "min": min(values), "max": max(values), "n": len(values)}


def pair_ratios(rounds, a, b):
    """a's samples/s ÷ b's, round by round (rounds where either was skipped are left out)."""
    return [r["results"][a]["samples_per_s"] / r["results"][b]["samples_per_s"] for r in rounds
            if "skipped" not in r["results"][a] and "skipped" not in r["results"][b]]


def caveat(note):
    """What a target's name says when its figure comes from disturbed rounds only."""
    return " [from disturbed rounds]" if note.startswith("EVERY ROUND DISTURBED") else ""


def iqr(s, fmt="{:.2f}"):
    return f"{fmt.format(s['median'])} (IQR {fmt.format(s['q1'])} – {fmt.format(s['q3'])})"
