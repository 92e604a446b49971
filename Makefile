# mmseg-kd: one-command set-up, demo and tests.
#   make install   create .venv (if needed) and install the whole stack + this package
#   make demo      install, then run the embedded end-to-end distillation demo
#   make lint      install, then check the code with ruff (rules in ruff.toml)
#   make test      install, lint, then run the whole test suite (2 workers; timing tests alone afterwards)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.mmseg_kd_installed

.PHONY: install demo lint test clean

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) setup.py Makefile
	$(PIP) install --upgrade pip wheel 'setuptools>=77,<81'
	@if $(PY) -c "import torch, torchvision, torchvision.ops; assert tuple(map(int, torch.__version__.split('+')[0].split('.')[:2])) >= (2, 6)" 2>/dev/null; then \
	    echo "torch $$($(PY) -c 'import torch; print(torch.__version__)') already importable: keeping it"; \
	else \
	    $(PIP) install 'torch===2.13.0' 'torchvision===0.28.0'; \
	fi
	@if $(PY) -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then \
	    echo "mmcv 2.1.0 with ops already installed"; \
	else \
	    MMCV_WITH_OPS=1 MAX_JOBS=2 $(PIP) install --no-build-isolation 'mmcv==2.1.0'; \
	fi
	$(PIP) install 'mmengine==0.10.7' 'mmsegmentation==1.2.2' timm tensorboard cityscapesscripts ftfy regex pytest 'pytest-xdist==3.8.0' 'ruff==0.17.6'
	$(PIP) install --no-build-isolation --no-deps -e .
	$(PY) -c "import mmseg_kd, mmcv.ops, timm; print('mmseg_kd stack OK')"
	touch $(STAMP)

demo: install
	$(PY) tools/demo.py

lint: install
	$(PY) -m ruff check .

# Two workers, one test file per worker at a time (the files' fixtures build models and datasets once); the tests
# marked `serial` measure time and run afterwards on a quiet machine.
test: install lint
	$(PY) -m pytest -q -n 2 --dist loadfile -m 'not serial' tests
	$(PY) -m pytest -q -m serial tests

clean:
	rm -rf $(VENV) work_dirs
