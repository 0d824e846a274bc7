# Quick start: `make run` and `make test`; both create .venv and install what they need.
PY      := .venv/bin/python
STAMP   := .venv/.installed

.PHONY: run test clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m deltaflow.demo configs/spiral.json

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf .venv .pytest_cache .hypothesis build dist src/*.egg-info
