"""Deterministic synthetic imitation of Kaggle's "Walmart Recruiting - Store Sales Forecasting".

`generate` returns the four Kaggle tables (``train``, ``features``, ``stores``, ``test``) as pandas
DataFrames with exactly the Kaggle columns and the dtypes ``pandas.read_csv`` gives for the real
files (``Date`` is a ``YYYY-MM-DD`` string column, ``IsHoliday`` is bool).  `write_kaggle_files`
writes them atomically in Kaggle's CSV dialect (``TRUE``/``FALSE``, ``NA`` for missing cells,
trailing ``.0`` dropped from numbers, ``stores.csv`` with bare CR line ends).  `summarize` computes
the statistics used to compare synthetic and real data (see ``docs/synthetic_data.md``).

The model, in short (all of it vectorised with numpy; the only Python loops run over years,
holidays, weeks of an AR(1) recursion and fixed-size chunks of series):

* stores: types A/B/C in the real 22/17/6 proportions, type-dependent sizes, regions sharing
  weather, fuel price, CPI and unemployment;
* departments: log-normal base levels spanning five orders of magnitude (~$1 to ~$90k a week),
  ticket sizes, dept-specific yearly seasonality (a few strongly seasonal depts), holiday
  sensitivity and return rates;
* weekly sales: level x trend x seasonality x calendar events (built day by day, then summed
  into Kaggle weeks, which end on the Friday in ``Date``) x AR(1) noise x a small markdown effect;
  the expected amount is turned into a Poisson number of items sold and returned, so small
  series have weeks without any sale (no row, as in Kaggle) and occasional negative sales;
* coverage: not every store has every department, some series open late or close early.

CLI: ``python -m retail_forecasting.synthetic OUT_DIR [--stores N --depts N --weeks N
--future-weeks N --seed N]``.

The package, by role: :mod:`.config` (:class:`SyntheticConfig`), :mod:`.model` (the generative
model and :func:`generate`), :mod:`.files` (:func:`write_kaggle_files`), :mod:`.summary`
(:func:`summarize`), :mod:`.cli`. The Kaggle columns come from
:mod:`retail_forecasting.kaggle.schema`,
the holidays (Easter through ``dateutil``) from :mod:`retail_forecasting.calendar`.

Runtime parameters: a ``kedro run`` generates the bundle (once per configuration, into
``data/01_raw/synthetic``) when ``raw_data_dir`` is empty, with the ``synthetic`` arguments of the
raw datasets in ``conf/base/catalog_01_raw.yml``. Four runtime parameters set them without
editing that file: ``kedro run --params synthetic_seed=42,synthetic_stores=45,synthetic_depts=81,
synthetic_weeks=143`` (the defaults shown). See ``docs/synthetic_data.md``.
"""

from retail_forecasting.calendar import holiday_dates, holiday_fridays, week_ending_friday
from retail_forecasting.kaggle.schema import (
    FEATURES_COLUMNS,
    FILE_NAMES,
    MARKDOWN_COLUMNS,
    STORES_COLUMNS,
    TEST_COLUMNS,
    TRAIN_COLUMNS,
)
from retail_forecasting.synthetic.cli import main
from retail_forecasting.synthetic.config import SyntheticConfig
from retail_forecasting.synthetic.files import write_kaggle_files
from retail_forecasting.synthetic.model import generate
from retail_forecasting.synthetic.summary import summarize

__all__ = [
    "FEATURES_COLUMNS",
    "FILE_NAMES",
    "MARKDOWN_COLUMNS",
    "STORES_COLUMNS",
    "TEST_COLUMNS",
    "TRAIN_COLUMNS",
    "SyntheticConfig",
    "generate",
    "holiday_dates",
    "holiday_fridays",
    "main",
    "summarize",
    "week_ending_friday",
    "write_kaggle_files",
]
