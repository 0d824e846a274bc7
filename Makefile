# Quick start: `make run` and `make test`; both create .venv and install what they need.
# `make bench` times deltaflow against PyTorch (CPU build, installed if missing) and scikit-learn.
PY      := .venv/bin/python
STAMP   := .venv/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# the live simulator; PORT=8001 make run if 8000 is taken
run: $(STAMP)
	$(PY) -m deltaflow.cli serve --port $(or $(PORT),8000)

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m benchmarks.bench

clean:
	rm -rf .venv .pytest_cache .hypothesis build dist src/*.egg-info
