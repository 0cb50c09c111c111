# Two commands for a fresh machine (Python 3.10+ with venv):
#   make demo   install into .venv and start the demo (emulator + terminal IPython)
#   make test   install into .venv and run every test, notebooks included
# And: make test-matrix   the suite on the oldest allowed versions (Python 3.10, every floor
#      of pyproject.toml) and the newest (Python 3.13), in venvs under build/matrix made
#      from pyenv's Pythons (~/.pyenv/versions).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python

.PHONY: demo test test-matrix bench docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(PY)
	PYTHONWARNINGS="ignore:Editable installation:UserWarning" $(PY) -m pip install -q -e '.[$*]'
	touch $@

demo: $(VENV)/.installed-emulator
	$(PY) -m vast_magic.demo

test: $(VENV)/.installed-test,browser
	$(PY) -m pytest

test-matrix:
	$(PYTHON) tests/matrix.py

bench: $(VENV)/.installed-test
	$(PY) benchmarks/load_ext.py
	$(PY) benchmarks/backup_code.py
	$(PY) benchmarks/emulator_latency.py

docs: $(VENV)/.installed-test
	$(PY) -m vast_magic.reference > docs/reference.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
