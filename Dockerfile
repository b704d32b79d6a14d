# Image for SageMaker Processing and Training jobs: the Kedro project, run as
#   <image> kedro run --env sagemaker --pipeline <name>     (Processing: ContainerArguments)
#   <image> train                                           (Training: hyperparameters pipeline/env/params)
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

# the package with its runtime dependencies only: no `test` extra, no notebooks, no SageMaker SDK
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install .

# the Kedro project around it: configuration (base + sagemaker; no credentials), SQL, telemetry opt-out
COPY conf/base ./conf/base
COPY conf/sagemaker ./conf/sagemaker
COPY conf/README.md ./conf/README.md
COPY sql ./sql
COPY .telemetry ./

ENV RETAIL_PROJECT_DIR=/opt/ml/code
ENTRYPOINT ["python", "-m", "retail_forecasting.aws.entrypoint"]
