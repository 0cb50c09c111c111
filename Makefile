# Two commands for a fresh machine (Python 3.10+ with venv):
#   make demo   install into .venv and start the demo (emulator + terminal IPython)
#   make test   install into .venv and run every test, notebooks included
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python

.PHONY: demo test bench docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[$*]'
	touch $@

demo: $(VENV)/.installed-emulator
	$(PY) -m vast_magic.demo

test: $(VENV)/.installed-test
	$(PY) -m pytest

bench: $(VENV)/.installed-test
	$(PY) benchmarks/load_ext.py
	$(PY) benchmarks/backup_code.py
	$(PY) benchmarks/emulator_latency.py

docs: $(VENV)/.installed-test
	$(PY) -m vast_magic.reference > docs/reference.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
