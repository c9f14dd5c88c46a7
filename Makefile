# Every target first checks the system packages it needs (localdev/system_packages.sh:
# installs what is missing with apt-get as root, otherwise stops with one line saying what
# to install), then creates the virtualenv with the pinned dependencies: each one works
# on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSTEM := sh localdev/system_packages.sh

.PHONY: help venv run history run-producer test test-unit test-integration test-localstack localstack bench bench-freshness \
        bench-history bench-import bench-polling bench-intelligence bench-pages bench-views chaos deploy clean system-run system-test system-test-integration system-localstack system-spark
.NOTPARALLEL:  # the system check comes before the virtualenv

help:
	@echo "make run        the whole pipeline locally (LocalStack, deployed stack, producer and import Lambdas, Glue, Snowpipe, fakesnow) over replayed playlists and a month of real chart exports, then the chart report; ARGS='--days 6' etc."
	@echo "make history    the whole real history (10 markets x 560 calendar days; the data holds 556 of them, the 4 missing days replay as gaps) through the local pipeline, then serve the views until Ctrl-C"
	@echo "make run-producer  quick look: the producer alone polls the local Spotify server into Firehose on moto"
	@echo "make test       all tests; starts and stops its own local servers"
	@echo "make test-unit  unit tests: no server, no JVM (under 30 s)"
	@echo "make test-integration  tests on local stand-ins: Spark, moto, fakesnow, the local Spotify server, Chromium, pip"
	@echo "make test-localstack  tests on LocalStack (the deployed stack, the whole pipeline)"
	@echo "                ARGS='-m spark' etc. passes pytest options (markers: pyproject.toml)"
	@echo "make localstack run LocalStack in the foreground (Docker if available, else host mode)"
	@echo "make bench      benchmarks (print figures)"
	@echo "make bench-freshness  end-to-end freshness: chart change -> live view and -> Snowflake views (~9 min)"
	@echo "make bench-history    the whole history through the pipeline (rows, days, minutes), then every market against the CSV truth"
	@echo "make bench-import     a year of chart exports from upload to queryable views, per stage, against DuckDB; then the CSV truth"
	@echo "make bench-intelligence  records, spread, grid, #1s, lead-lag against the CSV truth; their speed at 2, 4, 8 markets"
	@echo "make bench-pages      the dashboard's pages' answer times over a year of exports"
	@echo "make bench-polling    adaptive polling vs a fixed 15-minute schedule: reads per chart per day, flip-to-detection delay (~3 min)"
	@echo "make bench-views      load bounds: the report, a dashboard refresh and a day's merge over today's history and 10x it (~5 min)"
	@echo "make chaos            3 weeks of real charts through the pipeline fault-free, then with seeded random faults in every stage; the views must be equal (~15 min); ARGS='--seed 7 --restart'"
	@echo "make deploy     package and deploy the stack to AWS (or LocalStack via AWS_ENDPOINT_URL); ARGS=... passes options"

$(STAMP): requirements.lock pyproject.toml
	@$(SYSTEM) python3.11
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	# The project itself, in place, with its spotify-charts command. setuptools' editable
	# finder puts snowflake.charts into the `snowflake` namespace beside the connector's
	# snowflake.connector (tests/test_install.py checks both from outside the checkout).
	$(PY) -m pip install --quiet --no-deps -e .
	# Spark's S3 connector for local Glue runs (they read and write s3:// as on Glue): two jars
	# from the PyPI sdist sagemaker-pyspark, fetched once and checked, ~193 MB in ~/.cache/spotify-charts/jars.
	$(PY) -m localdev.local_spark.s3a fetch
	touch $(STAMP)

venv: $(STAMP)

# Both sources: 4 weeks of replayed playlists and a month of real chart exports (bundled),
# imported through the deployed import Lambda.
SAMPLE_EXPORTS := localdev/data/chart-exports-2024-05.zip
run: system-run $(STAMP)
	$(VENV)/bin/spotify-charts run --import $(SAMPLE_EXPORTS) --days 28 $(ARGS)

history: system-run $(STAMP)
	$(VENV)/bin/spotify-charts run --history $(ARGS)

run-producer: $(STAMP)
	$(PY) -m localdev.run_local $(ARGS)

# Test tiers (markers in pyproject.toml, given by tests/conftest.py); ARGS passes pytest options.
test: system-test $(STAMP)
	$(PY) -m pytest $(ARGS)

test-unit: $(STAMP)
	$(PY) -m pytest -m unit $(ARGS)

test-integration: system-test-integration $(STAMP)
	$(PY) -m pytest -m "not unit and not localstack" $(ARGS)

test-localstack: system-run $(STAMP)
	$(PY) -m pytest -m localstack $(ARGS)

localstack: system-localstack $(STAMP)
	$(PY) -m localdev.localstack run

bench: system-spark $(STAMP)
	$(PY) benchmarks/bench_producer.py
	$(PY) benchmarks/bench_local_spotify.py
	$(PY) benchmarks/bench_snowflake.py
	$(PY) benchmarks/bench_glue.py
	$(PY) benchmarks/bench_local_spark.py

# Not part of `make bench`: it watches 3 chart changes travel through the whole pipeline (~9 min).
bench-freshness: system-run $(STAMP)
	$(PY) benchmarks/bench_freshness.py

# Not part of `make bench`: 10 markets x 560 calendar days (556 with a chart, 4 gaps) through the whole pipeline (~10 min), then the truth check.
bench-history: system-run $(STAMP)
	$(PY) benchmarks/bench_history.py --truth $(ARGS)

# Not part of `make bench`: a year of two markets' chart exports (../shared/data/chart-export, else the
# bundled month) from upload to queryable views, with DuckDB on the same files as the reference (~3 min).
bench-import: system-run $(STAMP)
	$(PY) benchmarks/bench_import.py $(ARGS)
# Not part of `make bench`: 35 replayed days x 10 charts, a tick a minute, both schedules (~3 min).
bench-polling: $(STAMP)
	$(PY) benchmarks/bench_polling.py $(ARGS)

# Not part of `make bench`: the intelligence views against the CSV truth and their speed at 2, 4 and 8
# markets, and the dashboard pages' answer times; ARGS names the exports (e.g. ../shared/data/chart-export).
bench-intelligence: system-spark $(STAMP)
	$(PY) benchmarks/bench_intelligence.py $(ARGS)

bench-pages: system-spark $(STAMP)
	$(PY) benchmarks/bench_dashboard_pages.py $(ARGS)

# Not part of `make bench`: 10 eras of the real history (2.8 million chart rows) into the local engine (~5 min).
bench-views: $(STAMP)
	$(PY) benchmarks/bench_views.py $(ARGS)

# Not part of `make bench`: the whole pipeline twice (fault-free, then under seeded random faults), views compared (~15 min).
chaos: system-run $(STAMP)
	$(PY) benchmarks/bench_chaos.py $(ARGS)

deploy: $(STAMP)
	$(PY) -m infra.deploy $(ARGS)

# What each target needs from the system, checked before anything else.
system-run:  # the pipeline: Spark, and LocalStack (Python 3.13 unless Docker runs it)
	@$(SYSTEM) python3.11 java python3.13
system-test:
	@$(SYSTEM) python3.11 java chromium python3.13
system-test-integration:
	@$(SYSTEM) python3.11 java chromium
system-localstack:
	@$(SYSTEM) python3.11 python3.13
system-spark:
	@$(SYSTEM) python3.11 java

clean:
	rm -rf $(VENV) .pytest_cache
