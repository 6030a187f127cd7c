# Rollbook's image: one image for web (gunicorn), worker and beat (celery); see docker-compose.yml.
FROM python:3.11-slim

# settings.py finds templates/ and static/ beside config/, so the code runs from /app
# (PYTHONPATH), not from the copy pip puts in site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings \
    ROLLBOOK_VAR_DIR=/app/var

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
COPY pyproject.toml ./
COPY config/__init__.py config/
COPY schools/__init__.py schools/
COPY accounts/__init__.py accounts/
COPY bulkactions/__init__.py bulkactions/
COPY rostering/__init__.py rostering/
RUN pip install .

COPY . .
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --no-create-home --home-dir /app \
       --shell /usr/sbin/nologin rollbook

# Static files are collected into the image: with DEBUG=false, ManifestStaticFilesStorage
# needs its manifest. The keys below exist for this step only (DEBUG=false refuses to
# start without them); the containers get theirs from the environment.
RUN DEBUG=false SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEY=collectstatic-only EMAIL_URL=smtp://localhost:25 \
    python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R rollbook:rollbook /app/var

USER rollbook
EXPOSE 8000
# Workers: gunicorn reads WEB_CONCURRENCY (docker-compose.yml sets it).
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
