# Sangdam production image: gunicorn serving callcenter.wsgi with production settings.
# The same image runs the Celery worker and beat (see docker-compose.yml).

# --- source: the repository minus local state, with translations compiled --------------------
FROM python:3.11-slim AS source
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
# No .dockerignore: drop local state here so it never reaches the final image.
RUN rm -rf /src/.git /src/.venv /src/var /src/staticfiles /src/build /src/test-artifacts \
           /src/node_modules /src/.pytest_cache /src/.ruff_cache \
 && find /src -name '__pycache__' -type d -prune -exec rm -rf {} + \
 && find /src -name '*.egg-info' -prune -exec rm -rf {} + \
 && find /src -name '*.po' -path '*/LC_MESSAGES/*' \
        -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \;

# --- runtime -----------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=callcenter.settings.production
WORKDIR /app

# Dependencies first, from pyproject.toml alone, so this layer is reused until it changes
# (with no package directories present, `pip install .` installs only the dependencies).
COPY pyproject.toml ./
RUN pip install . && rm -rf build ./*.egg-info

# Then the project itself.
COPY --from=source /src /app
RUN pip install --no-deps . && rm -rf build ./*.egg-info

# Static files are collected at build time. Production settings refuse to load without these
# variables; the values below exist only for this step and are not kept in the image.
RUN DJANGO_SETTINGS_MODULE=callcenter.settings.production \
    SECRET_KEY=build-only-not-a-secret-0123456789abcdef \
    ALLOWED_HOSTS=x \
    PUBLIC_BASE_URL=http://x \
    python manage.py collectstatic --noinput -v0

RUN groupadd --system --gid 10001 sangdam \
 && useradd --system --uid 10001 --gid sangdam --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin sangdam \
 && mkdir -p /app/var \
 && chown sangdam:sangdam /app/var
USER sangdam

EXPOSE 8000
# Twilio gives up on a webhook after 15 s, so a request slower than that is of no use.
CMD ["gunicorn", "callcenter.wsgi:application", "--config", "python:callcenter.gunicorn", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "15", "--access-logfile", "-"]
