# The listarchive image: the web UI (gunicorn, the default command) and the scheduler
# (docker-compose.yml overrides the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LISTARCHIVE_DATA_DIR=/data

WORKDIR /app
COPY . /app
RUN pip install . \
    && useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin listarchive \
    && mkdir -p /data \
    && chown listarchive: /data

# A new named volume mounted on /data starts with this directory's ownership.
VOLUME ["/data"]
USER listarchive
EXPOSE 8000

# webui/gunicorn_conf.py: the slow-client-proof worker, web.threads and web.timeout
CMD ["gunicorn", "--config", "python:webui.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "2", "webui:create_app()"]
