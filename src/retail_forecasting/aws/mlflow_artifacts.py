"""kedro-mlflow artifact datasets whose files live on S3 (the ``sagemaker`` environment).

``kedro_mlflow.io.artifacts.MlflowArtifactDataset`` saves the wrapped dataset, then calls
``mlflow.log_artifact(<path>)``, which only accepts a local file: with the wrapped file on S3 the
save fails (MLflow logs local files only, mlflow/mlflow#7547). The ``sagemaker`` environment
moves every file to S3 (later SageMaker steps read them there), so the project keeps the file
on S3 *and* logs it: :func:`log_remote_artifacts_from_local_copies` replaces each such entry
of the catalog by :class:`MlflowRemoteArtifactDataset`, which saves the file where the catalog
says, then copies it to a temporary local folder, logs that copy and deletes it. Loading an
artifact from a given ``run_id`` works the other way round (MLflow -> temporary file -> S3).
Entries made later from dataset factory patterns (``"{model}.rpt_tuning"``) get the same
treatment: their resolved configuration names :class:`RemoteAwareMlflowArtifactDataset`.

Local wrapped files (``base`` and ``local`` environments) are left to kedro-mlflow untouched.
The project context (``retail_forecasting.context``) applies this to every catalog it builds.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import PurePosixPath
from typing import Any

import mlflow
from kedro.io import AbstractDataset, AbstractVersionedDataset
from kedro.io.core import get_filepath_str, get_protocol_and_path

logger = logging.getLogger(__name__)

_KEDRO_MLFLOW_ARTIFACT_MODULE = "kedro_mlflow.io.artifacts.mlflow_artifact_dataset"
_KEDRO_MLFLOW_ARTIFACT_TYPES = {
    "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
    f"{_KEDRO_MLFLOW_ARTIFACT_MODULE}.MlflowArtifactDataset",
}


def is_remote_mlflow_artifact(dataset: Any) -> bool:
    """Whether ``dataset`` is a kedro-mlflow artifact dataset wrapping a non-local file."""
    return (
        type(dataset).__module__ == _KEDRO_MLFLOW_ARTIFACT_MODULE
        and hasattr(dataset, "artifact_path")
        and getattr(dataset, "_protocol", "file") not in ("file", "", None)
        and hasattr(dataset, "_fs")
    )


class MlflowRemoteArtifactDataset(AbstractDataset):
    """A kedro-mlflow artifact dataset whose wrapped file is remote (S3), made loggable.

    The name starts with ``Mlflow`` on purpose: kedro-mlflow switches artifact logging on and
    off through ``_logging_activated`` on every catalog entry whose class name does.
    """

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped
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
        if dataset.run_id:  # fetch the artifact of that run and put it where the catalog says
            remote = self._remote_path(versioned_load=True)
            name = PurePosixPath(remote).name
            artifact = (
                f"{dataset.artifact_path}/{name}" if dataset.artifact_path else name
            )
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


class RemoteAwareMlflowArtifactDataset(AbstractVersionedDataset):
    """Drop-in for ``kedro_mlflow.io.artifacts.MlflowArtifactDataset`` (same arguments): the
    kedro-mlflow dataset itself for a local file, :class:`MlflowRemoteArtifactDataset` around
    it for a remote one."""

    def __new__(
        cls,
        dataset: str | dict,
        run_id: str | None = None,
        artifact_path: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        from kedro_mlflow.io.artifacts import MlflowArtifactDataset

        inner = MlflowArtifactDataset(
            dataset=dataset, run_id=run_id, artifact_path=artifact_path,
            credentials=credentials, metadata=metadata,
        )
        return MlflowRemoteArtifactDataset(inner) if is_remote_mlflow_artifact(inner) else inner


_REMOTE_AWARE_TYPE = f"{__name__}.RemoteAwareMlflowArtifactDataset"


def _remote_aware(config: Any) -> Any:
    """The pattern's resolved config, pointed at the remote-aware class when the wrapped file
    is remote; any other config (local files: ``base``, ``local``) exactly as it was."""
    if not isinstance(config, dict) or config.get("type") not in _KEDRO_MLFLOW_ARTIFACT_TYPES:
        return config
    wrapped = config.get("dataset")
    filepath = wrapped.get("filepath") if isinstance(wrapped, dict) else None
    if not filepath or get_protocol_and_path(str(filepath))[0] == "file":
        return config
    return {**config, "type": _REMOTE_AWARE_TYPE}


def _patch_factory_patterns(catalog: Any) -> None:
    resolver = getattr(catalog, "config_resolver", None)
    if resolver is None or getattr(resolver, "_remote_mlflow_artifacts", False):
        return
    resolve = resolver.resolve_pattern

    def resolve_pattern(ds_name: str) -> Any:
        return _remote_aware(resolve(ds_name))

    resolver.resolve_pattern = resolve_pattern
    resolver._remote_mlflow_artifacts = True


def log_remote_artifacts_from_local_copies(catalog: Any) -> list[str]:
    """Wrap every remote kedro-mlflow artifact dataset of ``catalog``, and those its factory
    patterns will make; return the names wrapped now."""
    _patch_factory_patterns(catalog)
    wrapped = []
    for name in list(catalog.keys()):
        if name.startswith("params:") or name == "parameters":
            continue
        dataset = catalog.get(name) if hasattr(catalog, "get") else catalog[name]
        if is_remote_mlflow_artifact(dataset):
            catalog[name] = MlflowRemoteArtifactDataset(dataset)
            wrapped.append(name)
    if wrapped:
        logger.info("MLflow artifacts saved on S3 and logged from local copies: %s", wrapped)
    return wrapped
