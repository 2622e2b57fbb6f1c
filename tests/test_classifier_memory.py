"""A Classifier gives memory back: after one 10M-value batch is released, RSS is within 64 MiB
of what it was before (onnxruntime's CPU memory arena used to keep ~256 MiB of it for the
session's life). Measured in a fresh process, so nothing else in the suite moves the figures."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import cli_env

BOUND_MIB = 64

PROBE = """
import gc, json
import numpy as np
from fclf_edge.runtime import Classifier

def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

classifier = Classifier()
classifier.predict(33.0)
x = np.linspace(-459.67, 10000, 10_000_000, dtype=np.float32)
before = rss_mib()
labels, probabilities = classifier.predict_with_proba(x)
during = rss_mib()
del labels, probabilities
gc.collect()
for _ in range(1000):
    classifier.predict(33.0)
print(json.dumps({"before": before, "during": during, "after": rss_mib()}))
"""


def test_rss_returns_after_a_10m_batch() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, env=cli_env()
    )
    assert proc.returncode == 0, proc.stderr
    rss = json.loads(proc.stdout)
    assert rss["during"] - rss["before"] > 100, rss  # the batch really took memory
    assert rss["after"] - rss["before"] <= BOUND_MIB, rss
