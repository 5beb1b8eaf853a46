# Benchmarks (bench/): `make bench` prints a table of ratios and writes bench/results.json.
# Needs the app venv and the tools venv (sam builds the Lambda artifact into bench/out/sam).
# The container throughput step loads the servers with Debian's wrk (`apt-get install wrk`)
# when it is installed, else with bench/loadgen.py (asyncio; its own ceiling is ~1k rps, so
# the step says so in its rows). Its CPython 3.13 rows use containers/python.sh's Debian root
# when it exists (or can be made: root + debootstrap), with wheels fetched into bench/out.
# taskset (util-linux) pins server and load generator to separate cores when present.
BENCH_ARGS ?=

.PHONY: bench bench-quick

bench: $(STAMP) $(TOOLS_STAMP) ## measure cold start, adapter, throughput, size, dev start (ratios, ~4 min)
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(PY) -m bench.run $(BENCH_ARGS)

bench-quick: $(STAMP) $(TOOLS_STAMP) ## the bench's smoke run: one iteration each, figures meaningless
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(PY) -m bench.run --quick $(BENCH_ARGS)
