"""``python -m retail_forecasting.synthetic OUT_DIR ...`` (see :mod:`.cli`)."""

import sys

from retail_forecasting.synthetic.cli import main

sys.exit(main())
