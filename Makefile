# Two commands do all the set-up on a fresh Debian machine:
#   make lab    set up, then JupyterLab on the sample incidents (prints the URL)
#   make test   set up, then every test: pytest on the package (and its docstring examples)
#               and nbval on every notebook
PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
LAB_PORT ?= 8888
LAB_IP   ?= 127.0.0.1
LAB_ARGS ?=
LAB_OPEN ?= notebooks/00_incident_overview.ipynb
# JupyterLab refuses to run as root unless told; CI and these machines run as root.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test setup system-deps unit notebooks benchmark clean

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ rm -rf $(VENV); tools/system_deps.sh python3-venv; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	# Evidence work is offline: no "news" or update prompts from JupyterLab.
	mkdir -p $(VENV)/share/jupyter/lab/settings && cp tools/jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/
	touch $(STAMP)

system-deps:
	@tools/system_deps.sh

lab: setup
	@echo "forensics: JupyterLab on http://$(LAB_IP):$(LAB_PORT)/lab/tree/$(LAB_OPEN) (the token is in the URL printed below)"
	$(BIN)/jupyter lab --no-browser $(ROOT_FLAG) --ServerApp.ip=$(LAB_IP) --ServerApp.port=$(LAB_PORT) \
		--ServerApp.root_dir=$(CURDIR) --ServerApp.default_url=/lab/tree/$(LAB_OPEN) $(LAB_ARGS)

test: setup
	FORENSICS_PROGRESS=0 $(BIN)/python -m pytest tests forensics notebooks --doctest-modules --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/python -m pytest tests forensics --doctest-modules -p no:cacheprovider

notebooks: $(STAMP)
	FORENSICS_PROGRESS=0 $(BIN)/python -m pytest notebooks --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
