"""The package makes OpenMP threads wait passively unless the caller chose (docs/scale.md):
spinning threads cost 16x the CPU of a LightGBM/XGBoost fit on shared cores."""

import os
import subprocess
import sys

SCRIPT = "import os, retail_forecasting; print(os.environ['OMP_WAIT_POLICY'])"


def policy_after_import(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env={**base, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_openmp_threads_wait_passively_unless_the_caller_chose():
    assert policy_after_import() == "PASSIVE"
    assert policy_after_import(OMP_WAIT_POLICY="active") == "active"
