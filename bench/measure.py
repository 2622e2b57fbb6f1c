"""Run a command and print its wall time and peak RSS as JSON on stderr's last line.

Used by run.py: a child forked from the benchmark process would count the benchmark's own
memory (torch and all) in its peak RSS; forked from this small launcher, it counts only its own.
"""

from __future__ import annotations

import json
import os
import sys
import time

if __name__ == "__main__":
    started = time.perf_counter()
    pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    sys.stderr.write(json.dumps({"wall": wall, "maxrss_kib": usage.ru_maxrss, "code": code}) + "\n")
    sys.exit(code)
