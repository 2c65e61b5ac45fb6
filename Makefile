# newsdigest — developer commands. Every target installs what it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench
EXAMPLE := examples/printable-riverton-solar.txt
RUSH_SIZES ?= 100 1000 10000
REPLICA_SIZES ?= 10000 2000  # channels on 1 and 2 replicas; the kill -9 run on 3

.PHONY: install demo test lint bench fuzz audit docker clean messages

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(BENCH_STAMP)

demo: install
	$(BIN)/newsdigest digest $(EXAMPLE)
	@echo "--- a section lookup through the command layer, as in Slack or Discord ---"
	printf '/digest sections\n/digest section what took so long\n' | $(BIN)/newsdigest console --article $(EXAMPLE)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(BENCH_STAMP)
	@mkdir -p bench/results
	$(BIN)/python -m bench.summarization | tee bench/results/summarization.txt
	$(BIN)/python -m bench.sentences | tee bench/results/sentences.txt
	$(BIN)/python -m bench.extraction | tee bench/results/extraction.txt
	$(BIN)/python -m bench.fanout | tee bench/results/fanout.txt
	$(BIN)/python -m bench.digest_quality | tee bench/results/digest_quality.txt
	$(BIN)/python -m bench.grouping | tee bench/results/grouping.txt
	$(BIN)/python -m bench.startup | tee bench/results/startup.txt
	$(BIN)/python -m bench.polling | tee bench/results/polling.txt
	$(BIN)/python -m bench.web | tee bench/results/web.txt
	$(BIN)/python -m bench.rush $(RUSH_SIZES) | tee bench/results/rush.txt
	$(BIN)/python -m bench.pacing | tee bench/results/pacing.txt
	$(BIN)/python -m bench.replicas $(REPLICA_SIZES) | tee bench/results/replicas.txt
	$(BIN)/python -m bench.wakeups | tee bench/results/wakeups.txt
	$(BIN)/python -m bench.readme

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# The bot's own words: extract them from the code and bring every catalog up to date (new
# messages appear untranslated; `make test` fails until they are translated).
LOCALES := bot/i18n/locales
MESSAGES_POT := $(VENV)/messages.pot
messages: install
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -k _ -k N_ -k lazy \
	  -k ngettext:1,2 --project newsdigest -o $(MESSAGES_POT) .
	@for lang in de fr es pt it ja zh; do \
	  if [ -f $(LOCALES)/$$lang/LC_MESSAGES/newsdigest.po ]; then \
	    $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -D newsdigest -l $$lang \
	      -i $(MESSAGES_POT) -d $(LOCALES); \
	  else \
	    $(BIN)/pybabel init -D newsdigest -l $$lang -i $(MESSAGES_POT) -d $(LOCALES); \
	  fi; \
	done

FUZZ_SECONDS ?= 60
fuzz: install
	$(BIN)/python -m pip install --quiet atheris
	@for target in feed html plaintext command; do \
	  echo "--- fuzzing $$target for $(FUZZ_SECONDS)s"; \
	  (cd fuzz && ../$(BIN)/python fuzz_$$target.py -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	     -artifact_prefix=crashers/$$target- ) || exit 1; \
	done

audit: install
	$(BIN)/python -m pip install --quiet bandit pip-audit
	$(BIN)/bandit -q -r bot adapters -lll
	$(BIN)/python scripts/audit_dependencies.py

# Builds the image and runs it locked down (no network, read-only root, no capabilities):
# the shared smoke test, then this project's own checks on the same image.
docker:
	KEEP_DAEMON=1 SMOKE_DIR=$${SMOKE_DIR:-/tmp/docker-smoke} ../shared/tools/docker-smoke
	SMOKE_DIR=$${SMOKE_DIR:-/tmp/docker-smoke} scripts/docker-checks
