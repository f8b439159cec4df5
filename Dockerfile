# workhooks server image: the two wheels of this repository and their locked dependencies in a
# virtual environment, run as an unprivileged user. Build: docker build -t workhooks .
# Run: docker run -p 8000:8000 workhooks             (API + worker on SQLite in /var/lib/workhooks)
#      docker run workhooks worker                   (a worker; set WORKHOOKS_DATABASE_URL)
# See deploy/compose.yaml and docs/deployment.md.

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY packaging ./packaging
COPY src ./src
COPY requirements/dev.lock ./requirements/dev.lock
# The lock's versions, without hashes, hold the image to what the test suite ran with.
RUN sed -n 's/^\([A-Za-z0-9_.-]*==[^ ]*\).*/\1/p' requirements/dev.lock > /tmp/pins.txt \
 && python -m venv /opt/workhooks \
 && /opt/workhooks/bin/pip install --no-cache-dir --disable-pip-version-check -q \
      -c /tmp/pins.txt ./packaging/client . \
 && /opt/workhooks/bin/pip uninstall -y -q pip

FROM python:3.12-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/workhooks --create-home workhooks
COPY --from=build /opt/workhooks /opt/workhooks
ENV PATH=/opt/workhooks/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WORKHOOKS_HOST=0.0.0.0 \
    WORKHOOKS_LOG_FORMAT=json \
    WORKHOOKS_DATABASE_URL=sqlite:////var/lib/workhooks/workhooks.db
USER workhooks
WORKDIR /var/lib/workhooks
VOLUME ["/var/lib/workhooks"]
# 8000: the API (serve); 8001: a worker's /health, /ready and /metrics.
EXPOSE 8000 8001
ENTRYPOINT ["workhooks"]
CMD ["serve"]
