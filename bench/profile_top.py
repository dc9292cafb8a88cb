"""Inclusive and own shares of frames in py-spy's collapsed stacks (``--format raw``).

``python -m bench.profile_top bench/profiles/NAME.txt [--top 40] [--match slotguard]``
prints JSON: for each frame (function and file), the share of samples it is on the stack
(inclusive) and at the top of it (own), the largest first.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

# "function (path/to/file.py:123)": the line number is dropped, so a function is one frame.
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def frame_of(raw: str) -> str:
    """``name (file)`` of one frame, with site-packages and the project prefix trimmed."""
    found = _FRAME.match(raw.strip())
    if found is None:
        return raw.strip()
    path = found["file"]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{found['name']} ({path})"


def shares(lines: list[str]) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, inclusive counts, own counts) of the collapsed stacks in ``lines``."""
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [frame_of(f) for f in stack.split(";") if f.strip()]
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        if frames:
            own[frames[-1]] += samples
    return total, inclusive, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--top", type=int, default=40, help="frames per list")
    parser.add_argument("--match", default="", help="only frames whose text contains this")
    options = parser.parse_args()
    total, inclusive, own = shares(options.profile.read_text(encoding="utf-8").splitlines())

    def top(counts: Counter[str]) -> list[list[object]]:
        picked = [(f, n) for f, n in counts.most_common() if options.match in f]
        return [[f, round(100 * n / max(total, 1), 1)] for f, n in picked[: options.top]]

    print(json.dumps({"samples": total, "inclusive_pct": top(inclusive), "own_pct": top(own)},
                     indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
