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
# Untracked working copies of notebooks/ (same depth, so relative sample paths still resolve):
# JupyterLab autosaves outputs, and they must never land in the tracked notebooks.
LAB_DIR  ?= lab
LAB_OPEN ?= $(LAB_DIR)/00_incident_overview.ipynb
# One token, chosen here, so that the printed URL logs in and opens the overview.
ifndef LAB_TOKEN
LAB_TOKEN := $(shell od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
endif
# JupyterLab refuses to run as root unless told; CI and these machines run as root.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test setup system-deps unit notebooks benchmark clean

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ rm -rf $(VENV); tools/system_deps.sh python3-venv; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	# Compile and cache the heap kernels now, so the first heap diff is as fast as the next (numba cache=True).
	-$(BIN)/python -m forensics.memory.warm
	# Evidence work is offline: no "news" or update prompts from JupyterLab.
	mkdir -p $(VENV)/share/jupyter/lab/settings && cp tools/jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/
	touch $(STAMP)

system-deps:
	@tools/system_deps.sh

lab: setup
	@$(BIN)/python tools/jupyter/lab_workspace.py notebooks $(LAB_DIR)
	@echo "forensics: JupyterLab on the sample incident — open"
	@echo "    http://$(LAB_IP):$(LAB_PORT)/lab/tree/$(LAB_OPEN)?token=$(LAB_TOKEN)"
	@echo "forensics: $(LAB_DIR)/ holds your working copies (untracked); notebooks/ holds the sources"
	# JUPYTER_CONFIG_PATH: tools/jupyter/labconfig turns MathJax off — evidence text is full of $
	# (SQL's $1, gdb's $_siginfo) and JupyterLab would typeset it as maths in every HTML output.
	JUPYTER_CONFIG_PATH=$(CURDIR)/tools/jupyter $(BIN)/jupyter lab --no-browser $(ROOT_FLAG) \
		--config=tools/jupyter/jupyter_server_config.py \
		--ServerApp.ip=$(LAB_IP) --ServerApp.port=$(LAB_PORT) --ServerApp.port_retries=0 \
		--IdentityProvider.token=$(LAB_TOKEN) --ServerApp.root_dir=$(CURDIR) \
		--ServerApp.default_url=/lab/tree/$(LAB_OPEN) $(LAB_ARGS)

test: setup
	FORENSICS_PROGRESS=0 $(BIN)/python -m pytest tests forensics notebooks --doctest-modules --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/python -m pytest tests forensics --doctest-modules -p no:cacheprovider

notebooks: $(STAMP)
	FORENSICS_PROGRESS=0 $(BIN)/python -m pytest notebooks --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
