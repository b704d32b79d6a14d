# Image for SageMaker Processing and Training jobs and for serving: the Kedro project, run as
#   <image> kedro run --env sagemaker --pipeline <name>     (Processing: ContainerArguments)
#   <image> train                                           (Training: hyperparameters pipeline/env/params)
#   <image> serve                                           (SageMaker endpoint / EKS: the API on port 8080,
#                                                            GET /ping, POST /invocations; docs/serving.md)
# See src/retail_forecasting/aws/entrypoint.py and docs/aws.md. Build:
#   docker build -t retail-forecasting:$(git rev-parse --short HEAD) .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KEDRO_DISABLE_TELEMETRY=1

# LightGBM (and XGBoost) need the OpenMP runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/ml/code

# the package with its runtime dependencies and the `serving` extra (FastAPI, uvicorn,
# prometheus-client, orjson for `serve`) at the versions of uv.lock (hash-checked), then the
# project itself: no `test`, `viz`, `notebooks` or `lint` extra, no SageMaker SDK
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN pip install "uv>=0.13,<0.14" \
 && uv export --frozen --no-dev --extra serving --no-emit-project -o /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && pip install --no-deps . \
 && pip uninstall -y uv \
 && rm /tmp/requirements.txt

# the Kedro project around it: configuration (base + sagemaker; no secrets: base's credentials.yml
# only names the ${warehouse_credentials:} resolver), SQL, telemetry opt-out
COPY conf/base ./conf/base
COPY conf/sagemaker ./conf/sagemaker
COPY conf/README.md ./conf/README.md
COPY sql ./sql
COPY .telemetry ./

# The jobs run as `app` (uid/gid 1000), not root. The packages, code, configuration and SQL stay
# root-owned and read-only to it; it may write only where a job writes (docs/aws.md, section 3):
#   /opt/ml/processing/metrics   RETAIL_EXPORTS of the evaluation step (the gate's metrics.json)
#   /opt/ml/output               Training jobs' failure file; /opt/ml/model: Training jobs' model dir
#   /opt/ml/code/.kedro-run.lock the run lock (retail_forecasting.runlock), created here, owned by app
#   /opt/ml/code/logs            logs/run_errors.log of a failed `kedro run` (retail_forecasting.cli)
#   /home/app                    HOME: caches of matplotlib and friends; /tmp stays world-writable
RUN groupadd --gid 1000 app \
 && useradd --uid 1000 --gid 1000 --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
 && mkdir -p /opt/ml/processing/metrics /opt/ml/output /opt/ml/model /opt/ml/code/logs \
 && touch /opt/ml/code/.kedro-run.lock \
 && chown -R 1000:1000 /opt/ml/processing /opt/ml/output /opt/ml/model /opt/ml/code/logs \
 && chown 1000:1000 /opt/ml/code/.kedro-run.lock
USER 1000:1000

ENV RETAIL_PROJECT_DIR=/opt/ml/code HOME=/home/app
# `serve` listens here (SageMaker hosting requires 8080; the EKS Deployment uses it too)
EXPOSE 8080
ENTRYPOINT ["python", "-m", "retail_forecasting.aws.entrypoint"]
