# Production image: gunicorn serving crmadmin, static files collected at build time and
# served by whitenoise. Configuration comes from the environment (see README). The same
# image runs the Celery worker and beat (compose.yaml).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY crmadmin ./crmadmin
# Editable, so that settings find templates/ and static/ beside the package in /app; every
# package at the version pinned (and audited) in requirements.lock.
RUN pip install -c requirements.lock -e .
COPY manage.py ./
COPY templates ./templates
COPY static ./static

# collectstatic needs production settings to build whitenoise's manifest; these values are
# placeholders for the build only and are not kept in the image's environment.
RUN CRMADMIN_ENV=production \
    DJANGO_SECRET_KEY=build-only-placeholder-build-only-placeholder-build-only \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    CELERY_BROKER_URL=redis://build.invalid:6379/0 \
    CRMADMIN_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput -v 0

# The code stays root's and read-only; the app may write only in var/ (beat's schedule).
RUN useradd --system --uid 10001 --home-dir /app crmadmin && mkdir -p /app/var && chown crmadmin /app/var
USER crmadmin

# gunicorn listens on 0.0.0.0:$PORT and starts $WEB_CONCURRENCY processes.
ENV CRMADMIN_ENV=production \
    PORT=8000 \
    WEB_CONCURRENCY=3
EXPOSE 8000
# The probe must pass Django's host check and, since production redirects plain HTTP to
# HTTPS, say that TLS ended at the proxy, as the proxy does; a 503 raises, so exits 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request as r; host = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')[0].strip().lstrip('.'); r.urlopen(r.Request('http://127.0.0.1:' + os.environ['PORT'] + '/healthz', headers={'Host': host, 'X-Forwarded-Proto': 'https'}), timeout=4)"
# The access log shows the path without its query string: an OAuth callback's query holds
# the authorization code, and gunicorn's log bypasses Django's redaction.
CMD ["gunicorn", "crmadmin.wsgi", "--threads", "4", "--access-logfile", "-", \
     "--access-logformat", "%(h)s %(t)s \"%(m)s %(U)s %(H)s\" %(s)s %(b)s %(M)sms"]
