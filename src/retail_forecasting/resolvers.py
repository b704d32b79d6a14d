"""OmegaConf resolvers registered in ``settings.py``.

``${project_root:}`` returns the absolute project directory, found by walking up from the
working directory to the ``pyproject.toml`` that declares ``[tool.kedro]``. File URLs built
with it (DuckDB warehouse, MLflow SQLite store) keep working from ``notebooks/``, whose kernels
start in that folder.

``${oc.env:VAR, default}`` is OmegaConf's own resolver, which Kedro switches off outside
credentials files unless a project registers it: the ``sagemaker`` environment reads
``RETAIL_S3_PREFIX`` and ``MLFLOW_TRACKING_URI`` with it. A missing variable without a default
is an error naming it.

``${warehouse_credentials:}`` returns the PostgreSQL warehouse's ``{"con": <URL>}`` from the
``DB_*`` variables or the Secrets Manager secret ``RDS_SECRET_NAME``
(:func:`retail_forecasting.warehouse.credentials.warehouse_credentials`); ``conf/base/
credentials.yml`` names it, so the catalogs' ``credentials: warehouse_db`` finds it.

``${model_requirements:}`` returns the champion's MLflow ``pip_requirements``, derived from the
model zoo and pinned to the installed versions
(:func:`retail_forecasting.forecasting.zoo.pip_requirements`); the catalog entry
``rpt_champion_model`` uses it.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf.resolvers import oc


def find_project_root(start: Path | None = None) -> Path:
    """Return the closest directory (``start`` or a parent) holding a Kedro ``pyproject.toml``."""
    start = (start or Path.cwd()).resolve()
    for candidate in (start, *start.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "[tool.kedro]" in pyproject.read_text(encoding="utf-8"):
            return candidate
    return start


def project_root() -> str:
    """Absolute POSIX path of the project root (see :func:`find_project_root`)."""
    return find_project_root().as_posix()


def warehouse_credentials() -> dict[str, str]:
    """The warehouse credentials (imported on use: settings stay light)."""
    from retail_forecasting.warehouse.credentials import warehouse_credentials as credentials

    return credentials()


def model_requirements() -> list[str]:
    """The champion's pinned pip requirements (imported on use: settings stay light)."""
    from retail_forecasting.forecasting.zoo import pip_requirements

    return pip_requirements()


CUSTOM_RESOLVERS = {
    "project_root": project_root,
    "oc.env": oc.env,
    "warehouse_credentials": warehouse_credentials,
    "model_requirements": model_requirements,
}
