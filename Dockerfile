# Wine-Shop image: the same image runs web, and (with other commands) the background processes,
# the one-off set-up and Flower (docker-compose.yml).
#
# python:3.11-slim (Debian), not Alpine: psycopg[binary], reportlab, pillow and the other compiled
# dependencies publish manylinux (glibc) wheels; on Alpine (musl) some have no wheel and would be
# built from source with a compiler toolchain in the image, slower to build and larger.
# The tag names the exact Python release, so a rebuild does not change it unnoticed.
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11.14-slim-bookworm
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN useradd --create-home --uid 1000 wineshop
WORKDIR /app
COPY --from=build /venv /venv
# .dockerignore keeps .env, var/, .venv and .git out: no secret or local state enters the image.
COPY --chown=wineshop:wineshop . /app
# Static files are collected at build time and served by whitenoise. The build needs a key, a
# host and a webhook secret to load the settings; none is kept (ENV is not used), production
# sets its own.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
        STRIPE_WEBHOOK_SECRET=collectstatic-only \
        python manage.py collectstatic --noinput \
    && mkdir -p var/flower \
    && chown -R wineshop:wineshop var
USER wineshop
EXPOSE 8000
# /healthz, not /ping/: it is answered before the host check and the SSL redirect (a probe from
# inside the container speaks plain HTTP to 127.0.0.1, which production's ALLOWED_HOSTS and
# SECURE_SSL_REDIRECT would turn away), and a web container that can't reach the database or the
# broker is not one to send customers to.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["gunicorn", "backoffice.wsgi:application", "--config", "backoffice/gunicorn.conf.py"]
