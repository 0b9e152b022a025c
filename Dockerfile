# Wine-Shop image: the same image runs web, and (with other commands) the background processes.
# python:3.11-slim (Debian): every wheel the project needs exists for it, unlike for Alpine (musl).
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN useradd --create-home --uid 1000 wineshop
WORKDIR /app
COPY --from=build /venv /venv
COPY --chown=wineshop:wineshop . /app
# Static files are collected at build time and served by whitenoise.
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && mkdir -p var && chown -R wineshop:wineshop var
USER wineshop
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ping/', timeout=4)"
CMD ["gunicorn", "backoffice.wsgi:application", "--config", "backoffice/gunicorn.conf.py"]
