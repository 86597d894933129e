# The BugTracker image: `bugtracker bot` by default, any other `bugtracker` command as arguments.
#
#   make image                     # wheels (build/wheels) + this file -> bugtracker:latest
#   podman run --rm -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN -e SLACK_CHANNEL_ID -v bugtracker-data:/data bugtracker
#
# The wheels are built outside the image (`make wheels`: the app's wheel and every dependency's, for
# Linux/CPython 3.11), so the build needs no network and no compiler, and the final stage holds only the
# interpreter and the installed packages. BASE is any glibc Linux image with python3 (3.11) and its venv
# module; CI passes one made from Debian's packages with mmdebstrap (it cannot reach a container registry).
ARG BASE=python:3.11-slim

FROM ${BASE} AS install
COPY build/wheels /wheels
# One virtualenv, copied whole into the final stage (same base, same interpreter path). Neither pip nor
# setuptools is kept: nothing is installed at run time.
RUN python3 -m venv /opt/bugtracker \
    && /opt/bugtracker/bin/pip install --no-index --find-links /wheels --no-compile --quiet unified-bugtracker \
    && /opt/bugtracker/bin/pip uninstall --yes --quiet setuptools pip \
    && /opt/bugtracker/bin/bugtracker --help >/dev/null

FROM ${BASE}
COPY --from=install /opt/bugtracker /opt/bugtracker
# A fixed uid, so a volume's owner and a platform's runAsUser can name it; no login shell, no password.
RUN groupadd --gid 10001 bugtracker \
    && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin bugtracker \
    && mkdir -p /data && chown bugtracker:bugtracker /data
# METRICS_HOST: inside a container the ports must be reachable from outside it (the default is 127.0.0.1).
# METRICS_PORT serves /metrics, /healthz, /readyz (and /api/* with METRICS_API_TOKEN); HEALTH_PORT only
# /healthz and /readyz, for a probe that must see nothing else.
ENV PATH=/opt/bugtracker/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BUGTRACKER_DB=/data/bugtracker.db \
    METRICS_PORT=9464 \
    METRICS_HOST=0.0.0.0 \
    HEALTH_PORT=8080
WORKDIR /data
VOLUME ["/data"]
USER bugtracker
EXPOSE 9464 8080
# /healthz of HEALTH_PORT (of METRICS_PORT if HEALTH_PORT is emptied): 200 when the store answers and Slack
# is connected (or not used). Standard library only: the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; port = os.environ.get('HEALTH_PORT') or os.environ.get('METRICS_PORT') or '9464'; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
ENTRYPOINT ["bugtracker"]
CMD ["bot"]
