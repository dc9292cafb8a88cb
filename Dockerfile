# slotguard as a container: the locked runtime dependencies (hashes checked) in a virtualenv,
# run as an unprivileged user, `slotguard serve` as the entrypoint, healthy once /readyz is.
#   docker build -t slotguard .
#   docker run --rm -e SLOTGUARD_DATABASE_URL=postgresql://… slotguard migrate
#   docker run -p 127.0.0.1:8000:8000 -e SLOTGUARD_DATABASE_URL=… -e SLOTGUARD_RETELL_API_KEY=… slotguard
# compose.yaml runs it with PostgreSQL and the migrations; see README "Running in a container".
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/slotguard
COPY requirements.lock ./
RUN /opt/slotguard/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
# A regular (not editable) install of the package itself; its dependencies came from the lock.
RUN /opt/slotguard/bin/pip install --no-deps --no-build-isolation . \
 && /opt/slotguard/bin/pip uninstall --yes hatchling

FROM python:${PYTHON_VERSION}-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/slotguard --create-home slotguard
COPY --from=build /opt/slotguard /opt/slotguard
ENV PATH=/opt/slotguard/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SLOTGUARD_HOST=0.0.0.0 \
    SLOTGUARD_PORT=8000 \
    SLOTGUARD_DATABASE_URL=sqlite:////var/lib/slotguard/slotguard.db
USER slotguard
WORKDIR /var/lib/slotguard
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('SLOTGUARD_PORT', '8000')}/readyz\", timeout=2)"]
ENTRYPOINT ["slotguard"]
CMD ["serve"]
