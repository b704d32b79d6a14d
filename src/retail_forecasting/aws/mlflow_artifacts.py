"""kedro-mlflow artifact datasets whose files live on S3 (the ``sagemaker`` environment).

``kedro_mlflow.io.artifacts.MlflowArtifactDataset`` saves the wrapped dataset, then calls
``mlflow.log_artifact(<path>)``, which only accepts a local file: with the wrapped file on S3 the
save fails (MLflow logs local files only, mlflow/mlflow#7547). The ``sagemaker`` environment
moves every file to S3 (later SageMaker steps read them there), so the project keeps the file
on S3 *and* logs it with :class:`MlflowRemoteArtifactDataset`, a catalog dataset type taking the
same arguments as kedro-mlflow's: it saves the file where the catalog says, then copies it to a
temporary local folder, logs that copy and deletes it. Loading an artifact from a given
``run_id`` works the other way round (MLflow -> temporary file -> S3). A local file is left to
kedro-mlflow's own dataset untouched.

How the catalog picks it (no patching): every MLflow-logged entry of ``conf/base`` is declared
``type: ${globals:datasets.mlflow_artifact}``; ``conf/base/globals.yml`` names kedro-mlflow's
class, ``conf/sagemaker/globals.yml`` this one. Named entries and factory patterns
(``"{model}.rpt_tuning"``) alike.

kedro-mlflow internals this relies on (tested with kedro-mlflow 2.0.x, the range pinned in
``pyproject.toml``; ``tests/aws/test_mlflow_artifacts.py`` fails if they move): kedro-mlflow
switches artifact logging on and off (``mlflow.yml`` ``disable_tracking``) by setting
``_logging_activated`` on every catalog entry whose class name starts with ``Mlflow``, and the
wrapped dataset keeps its location in ``_fs``/``_protocol``/``_filepath`` (kedro-datasets'
convention).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import PurePosixPath
from typing import Any

import mlflow
from kedro.io import AbstractDataset
from kedro.io.core import get_filepath_str

logger = logging.getLogger(__name__)

_KEDRO_MLFLOW_ARTIFACT_MODULE = "kedro_mlflow.io.artifacts.mlflow_artifact_dataset"


def is_remote_mlflow_artifact(dataset: Any) -> bool:
    """Whether ``dataset`` is a kedro-mlflow artifact dataset wrapping a non-local file."""
    return (
        type(dataset).__module__ == _KEDRO_MLFLOW_ARTIFACT_MODULE
        and hasattr(dataset, "artifact_path")
        and getattr(dataset, "_protocol", "file") not in ("file", "", None)
        and hasattr(dataset, "_fs")
    )


class MlflowRemoteArtifactDataset(AbstractDataset):
    """kedro-mlflow's artifact dataset, made loggable when its wrapped file is remote (S3).

    The name starts with ``Mlflow`` on purpose: kedro-mlflow switches artifact logging on and
    off through ``_logging_activated`` on every catalog entry whose class name does.
    """

    def __init__(
        self,
        dataset: str | dict | AbstractDataset,
        run_id: str | None = None,
        artifact_path: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """The arguments of ``kedro_mlflow.io.artifacts.MlflowArtifactDataset``; ``dataset`` may
        also be such a dataset, already built (it is then wrapped as it is)."""
        if isinstance(dataset, AbstractDataset):
            wrapped: Any = dataset
        else:
            from kedro_mlflow.io.artifacts import MlflowArtifactDataset

            wrapped = MlflowArtifactDataset(
                dataset=dataset,
                run_id=run_id,
                artifact_path=artifact_path,
                credentials=credentials,
                metadata=metadata,
            )
        self._wrapped = wrapped
        self._remote = is_remote_mlflow_artifact(wrapped)
        self.metadata = getattr(wrapped, "metadata", None)

    # kedro-mlflow turns logging off for pipelines listed in mlflow.yml `disable_tracking`
    @property
    def _logging_activated(self) -> bool:
        return self._wrapped._logging_activated

    @_logging_activated.setter
    def _logging_activated(self, flag: bool) -> None:
        self._wrapped._logging_activated = flag

    @property
    def wrapped(self) -> Any:
        """The kedro-mlflow dataset (its ``_filepath``/``_protocol`` say where the file is)."""
        return self._wrapped

    def _describe(self) -> dict[str, Any]:
        return {
            "wrapped": type(self._wrapped).__name__,
            "filepath": self._remote_path(),
            "artifact_path": self._wrapped.artifact_path,
            "run_id": self._wrapped.run_id,
        }

    def _remote_path(self, versioned_save: bool = False, versioned_load: bool = False) -> str:
        dataset = self._wrapped
        if versioned_save and getattr(dataset, "_version", None) is not None:
            path = dataset._get_save_path()
        elif versioned_load and getattr(dataset, "_version", None) is not None:
            path = dataset._get_load_path()
        else:
            path = getattr(dataset, "_filepath", None) or PurePosixPath(dataset._path)
        return get_filepath_str(PurePosixPath(path), dataset._protocol)

    def save(self, data: Any) -> None:
        dataset = self._wrapped
        if not self._remote:  # a local file: kedro-mlflow saves and logs it itself
            dataset.save(data)
            return
        # the save path of a versioned dataset must be read before the save (it then exists)
        remote = self._remote_path(versioned_save=True)
        logging_on = dataset._logging_activated
        dataset._logging_activated = False
        try:
            dataset.save(data)
        finally:
            dataset._logging_activated = logging_on
        if logging_on:
            self._log(remote)

    def _log(self, remote: str) -> None:
        dataset = self._wrapped
        fs = dataset._fs
        name = PurePosixPath(remote).name
        with tempfile.TemporaryDirectory(prefix="mlflow-artifact-") as tmp:
            local = f"{tmp}/{name}"
            fs.get(remote, local, recursive=fs.isdir(remote))
            if dataset.run_id:
                mlflow.MlflowClient().log_artifact(dataset.run_id, local, dataset.artifact_path)
            else:
                mlflow.log_artifact(local, dataset.artifact_path)
        logger.debug("Logged %s to MLflow (artifact path %s)", remote, dataset.artifact_path)

    def load(self) -> Any:
        dataset = self._wrapped
        if not self._remote:
            return dataset.load()
        if dataset.run_id:  # fetch the artifact of that run and put it where the catalog says
            remote = self._remote_path(versioned_load=True)
            name = PurePosixPath(remote).name
            artifact = f"{dataset.artifact_path}/{name}" if dataset.artifact_path else name
            with tempfile.TemporaryDirectory(prefix="mlflow-artifact-") as tmp:
                local = mlflow.artifacts.download_artifacts(
                    run_id=dataset.run_id, artifact_path=artifact, dst_path=tmp
                )
                dataset._fs.put(local, remote)
        # read the file itself: without a run id kedro-mlflow reads the wrapped path directly
        run_id, dataset.run_id = dataset.run_id, None
        try:
            return dataset.load()
        finally:
            dataset.run_id = run_id

    def _exists(self) -> bool:
        return self._wrapped.exists()
