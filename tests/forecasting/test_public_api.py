"""The engine's public API: every name of ``retail_forecasting.forecasting.__all__`` resolves to
the object of the module that defines it, and importing the contract alone stays light."""

from __future__ import annotations

import subprocess
import sys

import retail_forecasting.forecasting as engine


def test_every_public_name_resolves():
    for name in engine.__all__:
        value = getattr(engine, name)
        module = engine._API[name]
        assert value is getattr(__import__(f"{engine.__name__}.{module}", fromlist=[name]), name)


def test_the_contract_alone_imports_no_learner_library():
    code = (
        "import sys; import retail_forecasting.forecasting.contract; "
        "print(any(m in sys.modules for m in ('lightgbm', 'catboost', 'xgboost')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
