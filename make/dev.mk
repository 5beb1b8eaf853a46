# Local development (src/devstack): the whole system on loopback, no AWS account, no Docker.
#   make dev                       emulator + data stack + API (front door in front of the Lambda
#                                  entry and granian) + outbox loop + UI; Ctrl-C stops
#   make dev API_PORT=8001 UI_PORT=8502 MOTO_PORT=5001 DEV_SEED=1 DEV_UI=0 DEV_TARGET=fargate
#   make dev AWS_PROFILE=me STACK=orders-dev   API and UI against a deployed stack
#   make seed                      sample orders through the running API
#   make switch TARGET=both WEIGHT=50   move the running API between its Lambda and Fargate entries
#   make invoke EVENT=events/apigw-v2/list-orders.json   the Lambda handler, in-process
#   make token [USER=acme|operator|machine]   an access token from `make dev`'s user pool
#                                  (TOKEN=$(make -s token); curl -H "Authorization: Bearer $TOKEN" ...)
#   make soak [SOAK_SECONDS=600]   a stack of its own under 64 users; throughput ratio and memory
# Ports and flags are environment variables (make passes command-line variables on),
# so `make dev API_PORT=8001` and `API_PORT=8001 make dev` both work.

.PHONY: dev seed invoke sam-env soak switch token

SOAK_SECONDS ?= 600

# A profile exported in the shell must not send `make dev` to the cloud by accident:
# only AWS_PROFILE given on the make command line selects a deployed stack.
DEV_CLOUD_ARGS := $(if $(filter command line,$(origin AWS_PROFILE)),--aws-profile $(AWS_PROFILE))

# make/infra.mk gives TARGET a default for `make deploy`; a switch needs one said out loud.
SWITCH_TARGET = $(if $(filter command line environment,$(origin TARGET)),$(TARGET))

dev: $(STAMP) ## run the API (front door -> Lambda entry | granian), outbox loop and UI on loopback against an in-process AWS emulator
	@$(PY) -m devstack $(DEV_CLOUD_ARGS) $(DEV_ARGS)

seed: $(STAMP) ## create a few sample orders through the API `make dev` is running
	@$(PY) -m devstack.seed

switch: $(STAMP) ## move `make dev`'s API live: TARGET=lambda|both|fargate [WEIGHT=n, % to fargate with both]
	@test -n "$(SWITCH_TARGET)" || { echo "usage: make switch TARGET=lambda|both|fargate [WEIGHT=0-100]" >&2; exit 2; }
	@$(PY) -m devstack.switch "$(SWITCH_TARGET)" $(if $(WEIGHT),--weight "$(WEIGHT)")

invoke: $(STAMP) ## call the Lambda handler in-process on EVENT=<file> [USER=machine|acme|operator] against `make dev`; prints the response
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=events/<kind>/<file>.json" >&2; exit 2; }
	@$(PY) -m devstack.invoke "$(EVENT)" $(if $(filter command line,$(origin USER)),--user "$(USER)")

# USER is also the login name in every shell: only USER given on the make command line
# picks the token's user, as with AWS_PROFILE above.
TOKEN_USER = $(if $(filter command line,$(origin USER)),$(USER),acme)

token: $(STAMP) ## print an access token from `make dev`'s user pool: USER=acme (default)|operator|machine
	@$(PY) -m devstack.tokens --user "$(TOKEN_USER)"

sam-env: $(STAMP) ## rewrite events/local-env.json (sam local --env-vars) from cform/data.yaml
	@$(PY) -m devstack.samenv

soak: $(STAMP) ## 64 users on a `make dev` stack of its own for SOAK_SECONDS (600): rps(64)/rps(1), 5xx, moto RSS
	$(PY) -m bench.soak --seconds $(SOAK_SECONDS)
