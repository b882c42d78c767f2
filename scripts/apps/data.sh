#!/bin/sh
# data.sh FILE MB: MB megabytes of compressible, deterministic text (the
# same bytes every time: numbers and words from a fixed seed), made on the
# spot for the compressors of `./bench app`'s real programs.
set -eu
python3 - "$1" "$2" <<'PY'
import random, sys
rng = random.Random(20261202)
words = ["lock", "mutex", "futex", "queue", "epoch", "hazard", "grace", "park", "spin",
         "ticket", "cohort", "barrier", "event", "cond", "signal", "wake", "sleep", "owner"]
target = int(sys.argv[2]) << 20
with open(sys.argv[1], "w") as f:
    n = 0
    while n < target:
        line = "%d %s %s %d\n" % (rng.randrange(1 << 20), rng.choice(words), rng.choice(words),
                                  rng.randrange(1000))
        f.write(line)
        n += len(line)
PY
