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
	$(PIP) install 'mmengine==0.10.7' 'mmsegmentation==1.2.2' timm tensorboard cityscapesscripts ftfy regex 'pytest>=8.4,<9' 'pytest-xdist==3.8.0' 'ruff==0.17.6'
	$(PIP) install --no-build-isolation --no-deps -e .
	$(PY) -c "import mmseg_kd, mmcv.ops, timm; print('mmseg_kd stack OK')"
	touch $(STAMP)

demo: install
	$(PY) tools/demo.py

lint: install
	$(PY) -m ruff check .

# pytest stays below 9: pytest-xdist 3.8's --dist loadgroup sets a node id attribute that pytest 9 no longer reads,
# so its groups would be silently ignored.
# Two workers: a test file's tests stay on one worker (their fixtures build models and datasets once) except in the
# files that tests/conftest.py spreads; one thread per worker (two workers with torch's default of one thread per core
# spend a third of their time waiting on each other). The tests marked `serial` measure time and run afterwards, alone
# and with every core.
test: install lint
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadgroup -m 'not serial' --durations=15 tests
	$(PY) -m pytest -q -m serial tests

clean:
	rm -rf $(VENV) work_dirs
