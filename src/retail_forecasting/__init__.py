"""retail-forecasting"""

import os

# OpenMP threads (LightGBM, XGBoost, scikit-learn) wait for work by spinning by default. On a
# machine whose cores are shared with other work, a spinning thread holds the core that the
# other thread of the same fit is waiting for: one LightGBM fit at 450 stores took 84 s of CPU
# instead of 5 s on 2 shared cores (docs/scale.md). Passive waiting changes no result, only how
# idle threads wait. Set here, before any OpenMP runtime is loaded (the runtime reads it once);
# an OMP_WAIT_POLICY set by the caller wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1"
