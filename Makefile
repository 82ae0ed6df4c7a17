# Two commands set everything up on a fresh machine:
#   make book   - build the course to HTML (open _build/html/index.html)
#   make test   - ruff, the import-layer contract, the library tests, and nbval over every notebook
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test lint bench bench-smoke regenerate sync clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt torch
	$(PY) -m pip install -q -c constraints.txt -e ".[book,test,cluster]"
	touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --builder html -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval -p no:randomly book exercises/solutions --nbval-sanitize-with tests/nbval_sanitize.cfg

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	$(PY) benchmarks/run.py

bench-smoke: $(STAMP)
	$(PY) benchmarks/run.py --smoke

# make regenerate NAME=ch2_mlp   (or NAME=--all)
regenerate: $(STAMP)
	$(PY) -m grok_lib regenerate $(NAME)

clean:
	rm -rf _build
