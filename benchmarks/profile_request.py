"""Where schemaguard's time goes in one whole request of run.py's second table (cProfile).

    python benchmarks/profile_request.py                  # every case
    python benchmarks/profile_request.py "GET" --top 25   # cases whose label contains "GET"
    python benchmarks/profile_request.py --first-request  # the 1,000-operation spec, once

Profiles ``Guard.check_request`` (an invalid request's ``RequestError`` is caught) over many
back-to-back calls and prints the top functions by own time (tottime) and by cumulative time.
cProfile adds a fixed cost to every Python call, so Python-heavy paths look heavier than they
are: read the shares, not the absolute numbers (run.py has those).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import big_spec  # noqa: E402
import whole_requests  # noqa: E402
import yaml  # noqa: E402
from run import SPEC  # noqa: E402

import schemaguard as sg  # noqa: E402


def _stats(profile: cProfile.Profile, top: int, calls: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs()
    out.write(f"(totals for {calls} calls)\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def profile_case(validators: whole_requests.Validators, case: whole_requests.Case,
                 top: int, seconds: float) -> str:
    check = validators.schemaguard
    check(case.sg_request)
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.1:
        check(case.sg_request)
        calls += 1
    calls = max(1, int(calls * seconds / 0.1))
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(calls):
        check(case.sg_request)
    profile.disable()
    return _stats(profile, top, calls)


def profile_first_request(top: int) -> str:
    doc = big_spec.big_spec()
    method, path, query, body, _ = big_spec.first_request(doc)
    request = sg.HttpRequest(method, path, query, [("Content-Type", "application/json")], body)
    profile = cProfile.Profile()
    profile.enable()
    sg.Guard(doc).check_request(request)
    profile.disable()
    return _stats(profile, top, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("match", nargs="?", default="", help="profile cases whose key has this")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=1.0, help="profiled time per case")
    parser.add_argument("--first-request", action="store_true",
                        help="profile Guard(doc) + the first check_request on the generated "
                             "1,000-operation spec instead")
    args = parser.parse_args()
    if args.first_request:
        print(profile_first_request(args.top))
        return 0
    document: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    validators, cases = whole_requests.build(SPEC, document)
    whole_requests.verify(validators, cases)
    for case in cases:
        if args.match in case.key:
            print(f"=== {case.key}")
            print(profile_case(validators, case, args.top, args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
