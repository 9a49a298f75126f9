# Two set-up commands: `make demo` and `make test`. Both install what they need first.
VENV ?= .venv
CLX := $(VENV)/bin/clx
DEMO_SPEC := examples/demo-course/course-specs/demo.xml

.PHONY: setup demo test lint bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(CLX) build $(DEMO_SPEC) --output-dir output

test: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf output examples/demo-course/.clx
