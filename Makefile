# Evidence Console. `make run` serves the app with an embedded database,
# sample evidence and a local receiver; `make test` runs every test.

GO ?= go
LISTEN_ADDR ?= 127.0.0.1:8080
LOCAL_RECEIVER ?= 127.0.0.1:8090
RECEIVER_URL := http://$(LOCAL_RECEIVER)

# The local connector configuration names environment variables; these
# values point every destination at the local receiver started by `make run`.
# `make import` gets the same values, so it checks records against the
# secrets `make run` uses. They are exported to the recipe's environment rather than written on its
# command line, so neither make's echo nor `ps` shows them.
run import: export CONNECTOR_CONFIG := config/connectors.local.yaml
run import: export LOCAL_WEBHOOK_URL := $(RECEIVER_URL)/webhook/hooks/local
run import: export LOCAL_WEBHOOK_SIGNING_SECRET := whsec_bG9jYWwtZGV2ZWxvcG1lbnQtc2lnbmluZy1zZWNyZXQ=
run import: export LOCAL_SLACK_URL := $(RECEIVER_URL)/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj
run import: export LOCAL_TEAMS_URL := $(RECEIVER_URL)/teams/workflows/local
run import: export LOCAL_FAILING_URL := $(RECEIVER_URL)/fail/503/webhook
run import: export LOCAL_JIRA_URL := $(RECEIVER_URL)/jira
run import: export LOCAL_SERVICENOW_URL := $(RECEIVER_URL)/servicenow
run import: export LOCAL_TRACKER_TOKEN := local-receiver-token
run import: export LISTEN_ADDR := $(LISTEN_ADDR)
run import: export LOCAL_RECEIVER := $(LOCAL_RECEIVER)

.PHONY: run import test test-sqlite test-postgres browser build generate css lint bench tools

# Builds first and then replaces the shell with the server, so Ctrl-C reaches
# the server directly and a clean stop ends make without an error (`go run`
# exits 1 whenever its program is interrupted).
run: build
	exec ./bin/evidence-console serve

# Loads an evidence file into the `make run` database with the `make run`
# connector configuration: make import FILE=path/to/records.json
import: build
	@if [ -z "$(FILE)" ]; then echo "usage: make import FILE=path/to/records.json" >&2; exit 2; fi
	./bin/evidence-console import "$(FILE)"

# Every test on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is
# set. In CI (CI=true) PostgreSQL and the browser are required.
test: browser test-sqlite test-postgres

# Sets the driver, so a TEST_DATABASE_DRIVER=postgres exported in the shell
# does not turn this pass into a second PostgreSQL pass.
test-sqlite:
	TEST_DATABASE_DRIVER=sqlite $(GO) test -count=1 ./...

test-postgres:
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "running the suite again on PostgreSQL"; \
		TEST_DATABASE_DRIVER=postgres $(GO) test -count=1 ./...; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests cannot be skipped in CI" >&2; exit 1; \
	else \
		echo "TEST_DATABASE_URL is not set: skipping the PostgreSQL pass (see README)"; \
	fi

# Installs Debian's Chromium for the browser tests when it is missing and
# this user may install packages; otherwise the browser tests skip (but not
# in CI, where they fail). It looks where the browser tests look
# (chromiumPath in e2e/harness_test.go): CHROMIUM_PATH, then
# /usr/bin/chromium and /usr/bin/chromium-browser.
browser:
	@for candidate in "$$CHROMIUM_PATH" /usr/bin/chromium /usr/bin/chromium-browser; do \
		if [ -n "$$candidate" ] && [ -e "$$candidate" ]; then exit 0; fi; \
	done; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Chromium is not at CHROMIUM_PATH, /usr/bin/chromium or /usr/bin/chromium-browser: browser tests will be skipped (install the chromium package, or set CHROMIUM_PATH, to run them)"; \
	fi

build:
	$(GO) build -o bin/evidence-console ./cmd/evidence-console

# Regenerates the templ output; commit the generated *_templ.go files.
generate:
	$(GO) tool templ generate -path views

# Rebuilds static/css/app.css and re-vendors htmx; commit both.
css:
	npm ci --no-audit --no-fund
	npm run -s css
	npm run -s htmx

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Every benchmark, with the options docs/BENCHMARKS.md records: those that
# use a database on PostgreSQL, and the response scrubber, which uses none.
# Needs TEST_DATABASE_URL.
bench:
	TEST_DATABASE_DRIVER=postgres $(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./health/ ./executive/
	TEST_DATABASE_DRIVER=postgres $(GO) test -run '^$$' -bench . -benchtime 20x -benchmem -timeout 60m ./audit/
	TEST_DATABASE_DRIVER=postgres $(GO) test -run '^$$' -bench LiveRetry2000 -benchtime 1x -count 3 -timeout 60m ./retry/
	$(GO) test -run '^$$' -bench ResponseScrub -benchmem -count 3 ./connectors/
