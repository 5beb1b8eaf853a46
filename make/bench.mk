# Benchmarks (bench/): `make bench` prints a table of ratios and writes bench/results.json.
# Needs the app venv and the tools venv (sam builds the Lambda artifact into bench/out/sam).
# Everything it needs is in those venvs: the load generator is bench/loadgen.py (asyncio),
# so no apt package (wrk, hyperfine) is required. taskset (util-linux) pins server and
# load generator to separate cores when present.
BENCH_ARGS ?=

.PHONY: bench bench-quick

bench: $(STAMP) $(TOOLS_STAMP) ## measure cold start, adapter, throughput, size, dev start (ratios, ~4 min)
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(PY) -m bench.run $(BENCH_ARGS)

bench-quick: $(STAMP) $(TOOLS_STAMP) ## the bench's smoke run: one iteration each, figures meaningless
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(PY) -m bench.run --quick $(BENCH_ARGS)
