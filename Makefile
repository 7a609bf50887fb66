# Two commands do all set-up on a fresh machine:
#   make lab    -> installs what is missing and opens JupyterLab (tiny-ko-bert ships in models/)
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

.PHONY: install lab test unit smoke browser book notebooks model sbert-model bench clean-cache help

help:
	@echo "make lab    - install (if needed) and open the lessons in JupyterLab"
	@echo "make test   - install (if needed), run unit tests and re-execute all notebooks with nbval"
	@echo "make unit   - the unit tests only"
	@echo "make notebooks - re-execute every notebook and compare its outputs (nbval)"
	@echo "make smoke  - run every notebook on a small non-default checkpoint (part of make test)"
	@echo "make browser - lesson 04's chat widget and the book in headless Chromium, Hangul checked in pixels (part of make test; skipped without /usr/bin/chromium or a Korean font)"
	@echo "make book   - the lessons as a static HTML site in build/book/ from the stored outputs (no re-execution; seconds)"
	@echo "make model  - rebuild tiny-ko-bert from scratch into build/ (about 100 min on 2 idle cores; resumable); RECIPE=gpu-6x512 or gpu-base: a larger model on a GPU via accelerate launch"
	@echo "make sbert-model - rebuild the shipped Sentence-BERT models/tiny-ko-sbert from tiny-ko-bert (about 16 CPU minutes, one thread)"
	@echo "make bench  - run the benchmark scripts in benchmarks/ (figures quoted in the README; long)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH_OPTS) "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

# SKIP_INSTALL=1 uses $(VENV) as it is (e.g. an existing environment: make test VENV=../other/.venv SKIP_INSTALL=1).
ifeq ($(SKIP_INSTALL),)
install: $(STAMP)
else
install:
	@test -x $(PY) || { echo "SKIP_INSTALL is set but $(PY) does not exist"; exit 1; }
endif

# Rebuilds the shipped model from the data (resumes an interrupted build); the shipped copy in
# models/tiny-ko-bert is left alone. Point the lessons at the rebuilt copy with BERT_MODEL.
# RECIPE=reference (default: the shipped tiny-ko-bert, 2 CPU cores) or a larger named recipe for a GPU
# (gpu-6x512, gpu-base; helpers/pretrain/config.py), which runs through `accelerate launch` (one process per
# GPU after `accelerate config`; mixed precision from the runtime). LAUNCH_ARGS go to accelerate launch.
RECIPE      ?= reference
MODEL_WORK  ?= build/$(if $(filter reference,$(RECIPE)),tiny-ko-bert,$(RECIPE))
LAUNCH_ARGS ?=
model: install
	$(if $(filter gpu-%,$(RECIPE)),$(BIN)/accelerate launch $(LAUNCH_ARGS) -m,$(PY) -m) helpers.pretrain --work $(MODEL_WORK) --recipe $(RECIPE)
	@echo "rebuilt: use it with  BERT_MODEL=$(abspath $(MODEL_WORK))/final make lab"

# Jupyter refuses to start as root (containers, some cloud VMs) unless told it is intended.
LAB_ROOT    := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: install
	$(BIN)/jupyter lab notebooks/ $(LAB_ROOT) $(LAB_ARGS)

# `make test` = unit tests, then every notebook under nbval (outputs compared with the stored ones),
# then every notebook on a second, non-default checkpoint (smoke), then lesson 04's chat widget in a
# real browser. Each part is also a target of its own. nbval leaves stderr and tqdm bars out of the
# comparison (tests/nbval_ci.py): they depend on CI (helpers.setup() turns them off under CI=true,
# where the stored outputs come from) and on a warm cache (first-use logs), not on the lesson.
# pytest exits 5 when it collects nothing (no notebooks): not a failure.
NBVAL       := PYTHONPATH="$(CURDIR)/tests$${PYTHONPATH:+:$$PYTHONPATH}" $(PY) -m pytest -p nbval_ci --nbval --nbval-current-env
EXTRA_TESTS := --ignore=tests/test_any_checkpoint.py --ignore=tests/browser
test: install
	$(PY) -m pytest tests $(EXTRA_TESTS)
	$(NBVAL) notebooks || test $$? -eq 5
	$(PY) -m pytest tests/test_any_checkpoint.py
	$(PY) -m pytest tests/browser

unit: install
	$(PY) -m pytest tests $(EXTRA_TESTS)

notebooks: install
	$(NBVAL) notebooks || test $$? -eq 5

# Every notebook on a small BERT that is not tiny-ko-bert (errors only; outputs are not compared).
smoke: install
	$(PY) -m pytest tests/test_any_checkpoint.py

# Needs Debian's chromium at /usr/bin/chromium and a Korean font (apt-get install chromium fonts-nanum);
# also builds the book (book/build.py, seconds) and opens it. Skipped without them,
# unless BROWSER_CHECK=required (as in .ci/run), which turns the skip into a failure.
browser: install
	$(PY) -m pytest tests/browser

# The lessons as a static site (Sphinx + myst-nb + sphinx-book-theme, the `book` extra) from their
# stored outputs: nothing is executed or downloaded. Open build/book/index.html.
book: install
	$(PY) book/build.py

bench: install
	$(PY) benchmarks/tiny_ko_bert.py
	$(PY) benchmarks/tune_weights.py
	$(PY) benchmarks/chatbot_bench.py
	$(PY) benchmarks/sbert_bench.py --card
	$(PY) benchmarks/tokenization_bench.py
	$(PY) benchmarks/sentiment_bench.py --workers 2
	$(PY) benchmarks/qa_bench.py

# Rebuilds the shipped Sentence-BERT (lessons 02, 04) from tiny-ko-bert, then its model card.
sbert-model: install
	$(PY) -m helpers.sbert build --out models/tiny-ko-sbert
	$(PY) benchmarks/sbert_bench.py --card

clean-cache:
	rm -rf "$${KO_BERT_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/ko-bert-lessons}"
