# syntax=docker/dockerfile:1
# newsdigest: a self-hosted Slack and Discord bot. Build: docker build -t newsdigest .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: dependencies from the hash-pinned lock file, then the project as a wheel -----------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/venv/bin/pip install --no-deps /wheels/*.whl \
 && /opt/venv/bin/python -m pip uninstall --yes --quiet pip setuptools wheel 2>/dev/null; \
    test ! -e /opt/venv/bin/pip

# --- runtime: no compilers, no build tools, a non-root user, data on a volume -----------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="newsdigest" \
      org.opencontainers.image.description="Slack and Discord bot that turns news articles into short bullet digests" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/newsdigest/newsdigest"
RUN groupadd --system --gid 10001 newsdigest \
 && useradd --system --uid 10001 --gid newsdigest --home-dir /data --shell /usr/sbin/nologin newsdigest \
 && mkdir -p /data && chown newsdigest:newsdigest /data
COPY --from=build /opt/venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NEWSDIGEST_DATA_DIR=/data \
    NEWSDIGEST_HEALTH_PORT=8080 \
    NEWSDIGEST_HEALTH_HOST=0.0.0.0
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080 8081 3000
# `newsdigest health` probes the health port the configuration names (env or config file)
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["newsdigest", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["newsdigest"]
CMD ["serve"]
