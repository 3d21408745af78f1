# The two commands: `make demo` (set up from nothing, crawl the bundled demo site) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PURE_VENV ?= .venv-pure
BIN := $(VENV)/bin

.PHONY: setup demo test test-pure-opencc benchmark clean-output

$(BIN)/scrapy: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[native,test]"
	touch $@

setup: $(BIN)/scrapy

demo: setup
	$(BIN)/python demo/run.py

test: setup
	$(BIN)/pytest -q

# The script/language tests again on opencc-python-reimplemented (the same `opencc` module, pure Python).
test-pure-opencc:
	$(PYTHON) -m venv $(PURE_VENV)
	$(PURE_VENV)/bin/pip install --quiet --upgrade pip
	$(PURE_VENV)/bin/pip install --quiet -e ".[pure,test]"
	$(PURE_VENV)/bin/python -c "from importlib.metadata import distributions as d; n = {x.metadata['Name'].lower() for x in d()}; assert 'opencc-python-reimplemented' in n and 'opencc' not in n, n"
	$(PURE_VENV)/bin/pytest -q tests/test_script.py tests/test_language.py tests/test_clean.py

benchmark: setup
	$(BIN)/python benchmarks/extraction.py --data ../shared/benchmarks

clean-output:
	rm -rf output/* && touch output/.gitkeep
