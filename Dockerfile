# An image that runs any pipeline of the project: `docker run IMAGE run -p <pipeline>`.
# The build stage installs exactly poetry.lock's versions into /app/.venv; the
# final stage holds that environment and the project's runtime files only.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
# the build stage's image is pruned by get_model.sh once the final image exists
LABEL org.kedro-ml.stage=build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    POETRY_VIRTUALENVS_IN_PROJECT=true \
    POETRY_NO_INTERACTION=1 \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update \
 && apt-get install --yes --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/* \
 && python -m venv /opt/poetry \
 && /opt/poetry/bin/pip install --quiet poetry poetry-plugin-pypi-mirror
WORKDIR /app

# Dependencies first: this layer changes only when the lock does.
COPY pyproject.toml poetry.lock poetry.toml ./
RUN touch README.md \
 && POETRY_PYPI_MIRROR_URL="$(python -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')" \
    /opt/poetry/bin/poetry install --only main --no-root

# Then the package itself, as a wheel (not an editable install), and the whole
# environment byte-compiled (Kedro's cookiecutter templates are not Python).
COPY README.md ./
COPY src ./src
# What running pipelines never reads goes: the libraries' own test suites
# (about 200 MB), the symbol tables of compiled extensions (about 90 MB; their
# dynamic symbols stay; the wheels' vendored *.libs are left as they are, patched
# as they are by auditwheel), Arrow Flight (an RPC framework nothing here uses),
# MLflow's web UI, headers and sources, and pip itself.
RUN /opt/poetry/bin/poetry build --format wheel --output /tmp/dist \
 && /app/.venv/bin/pip install --quiet --no-deps /tmp/dist/*.whl \
 && find /app/.venv -depth -type d -name tests -prune -exec rm -rf {} + \
 && rm -rf /app/.venv/lib/python3.11/site-packages/mlflow/server/js \
           /app/.venv/lib/python3.11/site-packages/pyarrow/include \
           /app/.venv/lib/python3.11/site-packages/pyarrow/src \
 && find /app/.venv \( -name '*.pyx' -o -name '*.pxd' -o -name '*.h' -o -name '*.c' -o -name '*.cpp' \) -delete \
 && find /app/.venv -path '*.libs' -prune -o -type f -name '*.so*' -exec strip --strip-unneeded {} + \
 && rm -f /app/.venv/lib/python3.11/site-packages/pyarrow/*flight* \
          /app/.venv/lib/python3.11/site-packages/pyarrow/_pyarrow_cpp_tests* \
 && /app/.venv/bin/python -m pip uninstall --quiet --yes pip \
 && /app/.venv/bin/python -m compileall -q -x '[{][{]' /app/.venv

FROM ${BASE_IMAGE}
# No git in the image: GitPython (through MLflow) is told not to look for it
# instead of printing its 15-line warning on every run.
ENV KEDRO_DISABLE_TELEMETRY=1 \
    DO_NOT_TRACK=1 \
    GIT_PYTHON_REFRESH=quiet \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/app/.venv/bin:$PATH
RUN useradd --create-home --uid 1000 kedro \
 && mkdir -p /app/src /app/conf/local \
 && chown -R kedro:kedro /app
WORKDIR /app
COPY --from=build --chown=kedro:kedro /app/.venv /app/.venv
# Kedro finds the project by pyproject.toml; the code is the installed wheel, so
# src/ stays empty, and conf/local holds no secrets (Kedro requires both folders).
COPY --chown=kedro:kedro pyproject.toml ./
COPY --chown=kedro:kedro conf ./conf
COPY --chown=kedro:kedro data ./data
USER kedro
ENTRYPOINT ["kedro"]
CMD ["run"]
