# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test lint api bench train train-ds1 clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## Start the dashboard on the bundled example recording (http://localhost:$(PORT))
run: $(STAMP)
	$(BIN)/streamlit run streamlit_app.py --server.port $(PORT)

## Run the whole test suite (unit, model, app, API, fuzz, real browser) and the linter
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

## Serve the REST API on 127.0.0.1:8000 (OpenAPI at /docs)
api: $(STAMP)
	$(BIN)/uvicorn api.app:app --host 127.0.0.1 --port 8000

## Benchmarks on the shared MIT-BIH records (needs ../shared/data)
DATA ?= ../shared/data
bench: $(STAMP)
	$(BIN)/python -m ecg_core.bench detect --data-dir $(DATA)/mitdb
	$(BIN)/python bench/bench_classify.py

## Retrain the shipped model on DS1 + the shared SVDB records: the cross-database figures first (~15 min on
## 2 cores), then the shipped networks, calibrated on that run's out-of-fold outputs (~8 min)
SVDB ?= $(DATA)/svdb
train: $(STAMP)
	$(BIN)/python -m ecg_core.crossdb --mitdb-dir $(DATA)/mitdb --svdb-dir $(SVDB) --out out/xdb
	$(BIN)/python -m ecg_core.crossdb --mitdb-dir $(DATA)/mitdb --svdb-dir $(SVDB) --ship out/xdb --out models \
		--seeds 1 2

## A DS1-only model (the published inter-patient protocol: measure it on DS2 with classify --model DIR/beat_classifier.keras)
train-ds1: $(STAMP)
	$(BIN)/python -m ecg_core.train --data-dir $(DATA)/mitdb --out out/ds1_model --seeds 1 2

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
