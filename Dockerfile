# One image for every yizhan process: the three APIs, their workers, the
# scheduler, the migrate/seed job and Flower. docker-compose.yml picks the
# command. No secret is baked in: configuration comes from the environment.

# --- build: install the project and its dependencies into a virtualenv -----
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY . .
# A regular (not editable) install, and no source tree in the runtime image:
# the containers run exactly what the package ships, as any other install would.
# The postgres extra is psycopg[binary], which bundles libpq: no apt packages.
RUN pip install '.[postgres]' flower


# --- runtime -----------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    YIZHAN_VAR_DIR=/var/lib/yizhan

# A fixed, non-root uid so files in the volume keep one owner across rebuilds.
# /var/lib/yizhan holds writable state (beat schedule, operator data files);
# the named volume compose mounts there copies this ownership on first use.
RUN groupadd --system --gid 10001 yizhan \
 && useradd --system --uid 10001 --gid yizhan --home-dir /home/yizhan \
        --create-home --shell /usr/sbin/nologin yizhan \
 && install -d -o yizhan -g yizhan -m 0750 /var/lib/yizhan

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
USER yizhan

EXPOSE 8000
CMD ["yizhan", "--help"]
