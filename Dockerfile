# The listarchive image: the web UI (gunicorn, the default command) and the scheduler
# (docker-compose.yml overrides the command).  The first stage builds the wheel; the image
# holds only the installed wheel (no source tree), exactly what scripts/smoke-wheel tests and
# tests/test_dockerfile_env.py rebuilds outside a container.
FROM python:3.11-slim AS wheel
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . /src
RUN pip wheel --no-deps -w /wheels .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LISTARCHIVE_DATA_DIR=/data

COPY --from=wheel /wheels /wheels
RUN pip install /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin listarchive \
    && mkdir -p /data /app/config \
    && chown listarchive: /data

# The working directory holds no code: config/listarchive.toml (the settings file, mounted
# read-only by docker-compose.yml) is looked up here.
WORKDIR /app
# A new named volume mounted on /data starts with this directory's ownership.
VOLUME ["/data"]
USER listarchive
EXPOSE 8000

# webui/gunicorn_conf.py: the slow-client-proof worker, web.threads and web.timeout
CMD ["gunicorn", "--config", "python:webui.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "2", "webui:create_app()"]
