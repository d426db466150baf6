# The README's two commands: `make run` (hub on the bundled demo plant) and `make test`.
# Everything lands in .venv; nothing is installed system-wide except Debian packages the tests
# need, which `make test` installs with apt-get when run as root.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TEST_DEBS := chromium fonts-wqy-microhei espeak-ng alsa-utils mosquitto
CONFIG_ARG := $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run test test-debs check-config lint bench-core clean

run: $(VENV)/.installed
	$(BIN)/plantpulse run $(CONFIG_ARG)

# As root (CI) the test packages are installed, so a missing browser fails the browser tests
# instead of skipping them.
test: $(VENV)/.installed-test test-debs
	PLANTPULSE_REQUIRE_TEST_DEBS=$$([ "$$(id -u)" = 0 ] && echo 1 || echo 0) $(BIN)/pytest $(PYTEST_ARGS)

check-config: $(VENV)/.installed
	$(BIN)/plantpulse check-config $(CONFIG_ARG)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

bench-core: $(VENV)/.installed
	for name in fire_events state_set recorder_batched recorder_burst db_bytes_per_state boot \
			template_render automations automation_latency modbus_poll energy_tou_report; do \
		$(BIN)/plantpulse bench $$name --runs 3 | tail -n 1; done

$(VENV)/bin/python:
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && apt-get install -y -qq python3.11-venv python3-venv; \
		else \
			echo "Python's venv module is missing: sudo apt-get install python3.11-venv"; exit 1; \
		fi; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml setup.py
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/bin/python pyproject.toml setup.py
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

test-debs:
	@missing=""; for pkg in $(TEST_DEBS); do \
		dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q '^install ok installed$$' \
			|| missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian packages for the tests:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "WARNING: not root, cannot install:$$missing (tests needing them skip)"; \
		fi; fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
