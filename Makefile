# Every target creates the virtualenv and installs the pinned dependencies first,
# so each one works on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help venv run history run-producer test test-unit test-integration localstack bench bench-freshness bench-history deploy clean

help:
	@echo "make run        the whole pipeline locally (LocalStack, deployed stack, producer Lambda, Glue, Snowpipe, fakesnow), then the chart report; ARGS='--days 6' etc."
	@echo "make history    the whole real history (10 markets x 560 days) through the local pipeline, then serve the views until Ctrl-C"
	@echo "make run-producer  quick look: the producer alone polls the local Spotify server into Firehose on moto"
	@echo "make test       all tests (unit + integration); starts and stops its own local servers"
	@echo "make test-unit  unit tests only (fast)"
	@echo "make test-integration  integration tests only (local servers, LocalStack, Spark, fakesnow)"
	@echo "make localstack run LocalStack in the foreground (Docker if available, else host mode)"
	@echo "make bench      benchmarks (print figures)"
	@echo "make bench-freshness  end-to-end freshness: chart change -> live view and -> Snowflake views (~9 min)"
	@echo "make bench-history    the whole history through the pipeline (rows, days, minutes), then every market against the CSV truth"
	@echo "make deploy     package and deploy the stack to AWS (or LocalStack via AWS_ENDPOINT_URL); ARGS=... passes options"

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	# The project itself, in place ("compat" editable mode puts the checkout on sys.path,
	# which keeps snowflake.charts beside snowflake.connector) with its spotify-charts command.
	$(PY) -m pip install --quiet --no-deps -e . --config-settings editable_mode=compat
	# Spark's classes pre-parsed for the local JVM (~25 s once; each local Glue run then
	# starts about 2 s sooner). Only an optimisation: a failure leaves runs slower, not broken.
	$(PY) -m localdev.local_spark.class_archive || echo "warning: no JVM class archive; local Spark runs start slower"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/spotify-charts run $(ARGS)

history: $(STAMP)
	$(VENV)/bin/spotify-charts run --history $(ARGS)

run-producer: $(STAMP)
	$(PY) -m localdev.run_local $(ARGS)

test: $(STAMP)
	$(PY) -m pytest

test-unit: $(STAMP)
	$(PY) -m pytest -m "not integration"

test-integration: $(STAMP)
	$(PY) -m pytest -m integration

localstack: $(STAMP)
	$(PY) -m localdev.localstack run

bench: $(STAMP)
	$(PY) benchmarks/bench_producer.py
	$(PY) benchmarks/bench_local_spotify.py
	$(PY) benchmarks/bench_snowflake.py
	$(PY) benchmarks/bench_glue.py

# Not part of `make bench`: it watches 3 chart changes travel through the whole pipeline (~9 min).
bench-freshness: $(STAMP)
	$(PY) benchmarks/bench_freshness.py

# Not part of `make bench`: 10 markets x 560 days through the whole pipeline (~10 min), then the truth check.
bench-history: $(STAMP)
	$(PY) benchmarks/bench_history.py --truth $(ARGS)

deploy: $(STAMP)
	$(PY) -m infra.deploy $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
