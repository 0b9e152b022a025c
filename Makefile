# Wine-Shop: `make run` for the embedded default, `make test` for the whole suite.
# Every command here is also what docker-compose.yml runs in its containers.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench drills migrate seed messages web clean-venv browser proxy wrk stripe-listen \
	image image-test

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Wine-Shop needs Python 3.11"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# The embedded default: SQLite, the filesystem broker and files under var/, the demo admin.
# One command starts web, worker, beat and Flower (Procfile); Ctrl-C stops them all.
run: export DJANGO_DEBUG ?= 1
run: export GUNICORN_BIND ?= $(HOST):$(PORT)
run: export FLOWER_ADDRESS ?= $(HOST)
run: export FLOWER_BASIC_AUTH ?= admin:wine-shop-demo
# Signs the local Stripe sandbox's events; real keys come with their own secret.
run: export STRIPE_WEBHOOK_SECRET ?= whsec_wine_shop_sandbox
run: seed
	$(PY) manage.py setup_schedule
	$(PY) manage.py setup_roles
	$(PY) manage.py prepare_broker
	@echo
	@echo "  Shop:    http://$(HOST):$(PORT)/"
	@echo "  Admin:   http://$(HOST):$(PORT)/admin/   (admin / wine-shop-demo)"
	@echo "  Flower:  http://$(HOST):5555/            ($$FLOWER_BASIC_AUTH)"
	@echo "  Stripe:  $(if $(STRIPE_SECRET_KEY),your Stripe account,local sandbox at http://127.0.0.1:12111/)"
	@echo
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m backoffice.procfile \
		web worker beat flower $(if $(STRIPE_SECRET_KEY),,stripe)

# The French catalogue: collect the strings to translate into locale/fr/LC_MESSAGES/django.po,
# then compile it to django.mo (kept in the repository, so a machine without gettext runs the
# shop in both languages).
messages: $(VENV)/.runtime
	$(call debian_package,msgfmt,gettext,gettext (msgfmt) is needed to compile translations,false)
	$(PY) manage.py makemessages -l fr --no-obsolete --ignore ".venv/*" --ignore "bench/*" \
		--ignore "*/tests/*"
	$(PY) manage.py compilemessages -l fr --ignore ".venv/*"

web: $(VENV)/.runtime
	$(VENV)/bin/gunicorn backoffice.wsgi:application --config backoffice/gunicorn.conf.py

# With Stripe test keys instead of the sandbox: forward Stripe's events to the webhook (the
# stripe CLI; docker-compose.yml's stripe service forwards to web:8000 instead).
stripe-listen:
	stripe listen --forward-to localhost:$(PORT)/payment/webhook/

# Install a Debian package when its command is missing: with apt when run as root (updating the
# package lists if the first try fails). When the command is still missing, say in one line
# what is missing ($(3)); $(4) is what follows then (`true` to go on, `false` to stop).
define debian_package
	@command -v $(1) >/dev/null || test -x /usr/sbin/$(1) || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's $(2) with apt-get."; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q $(2) >/dev/null 2>&1 || \
			{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(2) >/dev/null 2>&1; }; \
		fi; \
		command -v $(1) >/dev/null || test -x /usr/sbin/$(1) || { echo "$(3)"; $(4); }; }
endef

# Debian's Chromium for the browser tests (never a downloaded browser build).
browser:
	$(call debian_package,chromium,chromium,Install Debian's chromium to run the browser tests.,true)

# Debian's nginx for the proxy tests: the version docker-compose.yml's proxy image runs.
proxy:
	$(call debian_package,nginx,nginx,Install Debian's nginx to run the proxy tests.,true)

# wrk, the load generator of make bench and make drills.
wrk:
	$(call debian_package,wrk,wrk,Install wrk (Debian package wrk) to run make bench and make drills.,false)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The suite runs in one process more than the machine has cores (pytest-xdist): its tests wait on
# workers, browsers and servers as much as they compute. The tests that use the broker for real
# run one at a time in one of them (conftest.py). `make test PYTEST_ARGS=` runs it in one process.
TEST_PROCESSES ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST_ARGS ?= -n $(TEST_PROCESSES) --dist loadgroup

test: $(VENV)/.dev browser proxy lint
	$(PY) manage.py makemigrations --check --dry-run --settings=backoffice.test_settings
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev wrk
	$(PY) bench/run.py

# Load, faults and hostile input on this machine's PostgreSQL and RabbitMQ (a database and a
# vhost of its own); prints one table, exits non-zero when something was lost or failed.
drills: $(VENV)/.dev wrk
	$(PY) bench/drills.py

# The production image, from the Dockerfile merchants use (the engine is installed and started
# when run as root; .ci/standin-base stands in for the base image where its registry is away).
IMAGE ?= $(shell sed -n 's/^ *image: *\(wine-shop:[^ ]*\).*/\1/p' docker-compose.yml | head -n1)
image:
	.ci/docker-engine
	.ci/standin-base >/dev/null
	docker build --network host --tag $(IMAGE) .

# docker-compose.yml's app services from that image on this machine's PostgreSQL, RabbitMQ and
# Redis, and a customer's path through them (.ci/image-test says which variables it needs).
image-test: $(VENV)/.dev
	.ci/image-test

clean-venv:
	rm -rf $(VENV)
