# The target advisor (src/advisor): which target is cheaper and faster for a traffic.
.PHONY: advise advise-prices

ADVISE_ARGS ?= --rps 1
REGION ?= us-east-1

advise: $(STAMP) ## cost and latency of each target for a traffic: make advise ADVISE_ARGS="--rps 20 --shape business --plot advice.png" (see orders-advise --help)
	$(VENV)/bin/orders-advise $(ADVISE_ARGS)

advise-prices: $(STAMP) ## refresh src/advisor/price_snapshot.json from the AWS Price List API (needs credentials)
	$(VENV)/bin/orders-advise --refresh-prices --region $(REGION)
