"""How much CPU the rest of the machine is using: the benchmark's guard against other load.

The kernel counts, since boot, the time all cores together spent busy (`/proc/stat`'s first
line: user, nice, system, irq, softirq and steal, the last being time the hypervisor gave our
virtual cores to someone else). Over a window, busy time divided by wall time is the number of
cores in use. Subtracting what the benchmark's own processes used in that window (this process,
its finished children from `getrusage`, and any extra process it started, read from
`/proc/<pid>/stat`) leaves the cores used by everything else: `others_cores`. A measurement
is trustworthy only when that stays near zero; on a machine without `/proc/stat` the load is
reported as unknown (None) and nothing is discarded.
"""

from __future__ import annotations

import os
import resource
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
QUIET_CORES = 0.3  # others may use up to this many cores and a measurement still counts as quiet


def parse_cpu_line(line: str) -> tuple[float, float]:
    """(busy seconds, total seconds) summed over all cores from `/proc/stat`'s aggregate `cpu` line.

    Fields: user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is
    already inside user, so only the first eight are summed; idle and iowait are not busy."""
    name, *fields = line.split()
    if name != "cpu" or len(fields) < 8:
        raise ValueError(f"not /proc/stat's aggregate cpu line: {line!r}")
    ticks = [int(f) for f in fields[:8]]
    total = sum(ticks)
    return (total - ticks[3] - ticks[4]) / CLOCK_TICKS, total / CLOCK_TICKS


def machine_busy_seconds() -> float | None:
    """Busy core-seconds of the whole machine since boot, or None without /proc/stat."""
    try:
        with open("/proc/stat") as f:
            return parse_cpu_line(f.readline())[0]
    except (OSError, ValueError):
        return None


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (fields 14 and 15 of /proc/<pid>/stat); 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            after_name = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(after_name[11]) + int(after_name[12])) / CLOCK_TICKS


def own_cpu_seconds(extra_pids=()) -> float:
    """CPU seconds used by this process, its waited-for children, and the given running processes."""
    own = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
              for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own + sum(process_cpu_seconds(pid) for pid in extra_pids)


class OthersLoad:
    """Context manager: `others_cores`, the mean number of cores that processes other than ours
    used while it was open (None where /proc/stat is missing).

        with OthersLoad() as load:
            subprocess.run(...)
        load.others_cores
    """

    def __init__(self, extra_pids=()):
        self.extra_pids = tuple(extra_pids)
        self.others_cores = None

    def __enter__(self):
        self._start = (time.perf_counter(), machine_busy_seconds(), own_cpu_seconds(self.extra_pids))
        return self

    def __exit__(self, *exc):
        wall, busy, own = time.perf_counter(), machine_busy_seconds(), own_cpu_seconds(self.extra_pids)
        wall0, busy0, own0 = self._start
        if busy is not None and busy0 is not None and wall > wall0:
            self.others_cores = max(0.0, (busy - busy0) - (own - own0)) / (wall - wall0)
        return False


def wait_until_quiet(max_wait: float, window: float = 1.0, threshold: float = QUIET_CORES, extra_pids=()):
    """Sleep in windows of `window` seconds until others use fewer than `threshold` cores over one
    window, for at most `max_wait` seconds (at least one window). Sleeping doubles as the idle gap
    that lets BLAS worker threads of the previous measurement go to sleep.

    Returns (quiet: bool, others_cores in the last window or None, seconds waited)."""
    started = time.perf_counter()
    while True:
        with OthersLoad(extra_pids) as load:
            time.sleep(window)
        waited = time.perf_counter() - started
        if load.others_cores is None or load.others_cores < threshold:
            return True, load.others_cores, waited
        if waited + window > max_wait:
            return False, load.others_cores, waited
