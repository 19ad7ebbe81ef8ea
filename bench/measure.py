#!/usr/bin/env python3
"""Runs a command; prints "elapsed_s max_rss_mib" (the child's peak RSS from getrusage).

    python3 bench/measure.py CMD [ARGS...]
"""

import resource
import subprocess
import sys
import time

started = time.monotonic()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{time.monotonic() - started:.1f} {rss:.0f}")
