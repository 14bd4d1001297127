"""Hogwild threads per rank when ``--threads`` is not given: measured, then a fixed rule.

Every training row writes every weight, so on small models the threads of a rank mostly fight
over the same cache lines, and on small frames a kernel call is mostly the pool's start-up:
then one thread is faster (prostate [50,50]: 1.9x, iris: 5x).  On large models threads pay.
Where the line lies depends on the machine, so it is measured: before the first iteration
each rank times a short run of rows on a throw-away copy of the model at 1, 2, 4, ... threads
(up to the cores it may use); the slowest rank's time counts, so every rank decides alike.

Rule (``pick_threads``): more threads are chosen only when they are at least ``GAIN`` faster
per row than the best smaller count, so a tie (noise) keeps the fewer threads.
"""

from __future__ import annotations

GAIN = 1.15   # more threads must be >= 15 % faster per row to be chosen


def candidates(max_threads: int) -> list[int]:
    """Thread counts to time: 1, 2, 4, ... below ``max_threads``, and ``max_threads``."""
    out, n = [], 1
    while n < max_threads:
        out.append(n)
        n *= 2
    return out + [max(1, int(max_threads))]


def pick_threads(seconds_per_row: dict[int, float], gain: float = GAIN) -> int:
    """The thread count to train with, from measured seconds per row (slowest rank) per count."""
    best = min(seconds_per_row)
    for n in sorted(seconds_per_row):
        if seconds_per_row[n] * gain < seconds_per_row[best]:
            best = n
    return best


def describe(seconds_per_row: dict[int, float], chosen: int, reason: str = "") -> str:
    """The one log line that states the choice and what it rests on (``reason`` when nothing
    was measured)."""
    if not seconds_per_row:
        return f"threads per rank: {chosen} ({reason}; --threads N sets it)"
    times = ", ".join(f"{n}: {1e6 * t:.3g}" for n, t in sorted(seconds_per_row.items()))
    return (f"threads per rank: {chosen} (measured us/row by threads {times}; "
            "--threads N sets it)")


def choose(max_threads: int, reproducible: bool, seconds_per_row, log) -> int:
    """Threads per rank when the user gave none, at most ``max_threads``: measured with
    ``seconds_per_row(threads, seconds)`` (a collective) unless that is 1; logs the choice."""
    if max_threads == 1:
        log(describe({}, 1, "reproducible" if reproducible else "one core per rank"), flush=True)
        return 1
    measured = {n: seconds_per_row(n, 0.05) for n in candidates(max_threads)}
    chosen = pick_threads(measured)
    log(describe(measured, chosen), flush=True)
    return chosen
