# Two commands do all set-up on a fresh machine:
#   make lab    -> installs what is missing, builds tiny-ko-bert if needed, opens JupyterLab
#   make test   -> installs what is missing, runs the unit tests and re-executes every notebook (nbval)
#
# Everything goes into a virtual environment ($(VENV)). torch is installed first, on its own,
# so that you can pick a CPU build: `make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu`.

PYTHON      ?= python3
VENV        ?= .venv
TORCH       ?= torch==2.13.0
TORCH_INDEX ?=
BIN         := $(VENV)/bin
PY          := $(BIN)/python
STAMP       := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
TORCH_OPTS  := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url https://pypi.org/simple,)

.PHONY: install lab test unit notebooks model bench clean-cache help

help:
	@echo "make lab    - install (if needed) and open the lessons in JupyterLab"
	@echo "make test   - install (if needed), run unit tests and re-execute all notebooks with nbval"
	@echo "make model  - build (or verify) the offline reference model tiny-ko-bert"
	@echo "make bench  - run the benchmark scripts in benchmarks/ (figures quoted in the README)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH_OPTS) "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

model: install
	$(PY) -m helpers.reference

# Jupyter refuses to start as root (containers, some cloud VMs) unless told it is intended.
LAB_ROOT    := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: install model
	$(BIN)/jupyter lab notebooks/ $(LAB_ROOT) $(LAB_ARGS)

# Unit tests first, then every notebook under nbval (outputs compared with the stored ones).
# pytest exits 5 when it collects nothing (e.g. no notebooks yet): that alone is not a failure.
test: install
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval --nbval-current-env notebooks || test $$? -eq 5

unit: install
	$(PY) -m pytest tests

notebooks: install
	$(PY) -m pytest --nbval --nbval-current-env notebooks || test $$? -eq 5

bench: install
	$(PY) benchmarks/reference_build.py
	$(PY) benchmarks/chatbot_bench.py
	$(PY) benchmarks/tokenization_bench.py

clean-cache:
	rm -rf "$${KO_BERT_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/ko-bert-lessons}"
