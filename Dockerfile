# Production image: gunicorn serving crmadmin, static files collected at build time and
# served by whitenoise. Configuration comes from the environment (see README).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY crmadmin ./crmadmin
RUN pip install -e .
COPY manage.py Procfile.demo ./
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

RUN useradd --system --uid 10001 --home-dir /app crmadmin && mkdir -p /app/var && chown crmadmin /app/var
USER crmadmin

ENV CRMADMIN_ENV=production
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["gunicorn", "crmadmin.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]
