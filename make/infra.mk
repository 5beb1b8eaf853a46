# Infrastructure targets, included from the root Makefile (`include make/infra.mk`).
# Every variable here is prefixed LAMBDA_/INFRA_/DEPLOY_ so it cannot clash with the root's.
#
# `sam build` (BuildMethod: makefile, ContextPath/WorkingDirectory ".") runs
# `make build-ApiFunction` and `make build-OutboxFunction` from the repo root with
# ARTIFACTS_DIR set. Both functions ship the same artifact: the runtime dependencies of
# pyproject.toml ([project].dependencies + the tracing extra; never dev, server or ui), the
# `orders` package, and .pyc files compiled with unchecked hashes (Lambda's code directory
# is read-only, so a package without them re-compiles on every cold start).
#
# boto3/botocore ARE shipped: the runtime's copy lags and changes under us, and the code is
# tested against the pinned one. awscrt and pyOpenSSL are kept out (botocore imports them
# when present, ~0.15 s of cold start for nothing).

INFRA_PYTHON ?= python3
# Must match the template's PythonRuntime (its default, python3.13, is this default; for
# python3.11: LAMBDA_PYTHON_VERSION=3.11 sam build --parameter-overrides PythonRuntime=python3.11).
LAMBDA_PYTHON_VERSION ?= 3.13
# The interpreter that writes the artifact's .pyc files: exactly LAMBDA_PYTHON_VERSION, taken
# from PATH, else from a Debian root made once under .cache/pyroot (containers/python.sh).
LAMBDA_BUILD_PYTHON ?= containers/python.sh $(LAMBDA_PYTHON_VERSION)
# One process: compileall's workers are started from sys.executable, which the Debian root's
# interpreter cannot be started as on this host (it runs through the root's loader). ~7 s.
LAMBDA_COMPILE := -m compileall -q -j1 --invalidation-mode unchecked-hash
# x86_64 or arm64, as the template's Architecture parameter.
LAMBDA_ARCH ?= x86_64
LAMBDA_PLATFORM := manylinux2014_$(if $(filter arm64,$(LAMBDA_ARCH)),aarch64,x86_64)
LAMBDA_DEPS := .aws-sam/deps/py$(LAMBDA_PYTHON_VERSION)-$(LAMBDA_ARCH)
# The AWS services the functions call (adapters/ + Powertools idempotency; secretsmanager
# for the front door's origin secret, orders.api.origin_check; sts for
# credential providers). botocore ships models for ~440 services, 28 of its 48 MB:
# the rest is removed. A service the code starts to call must be added here; the
# infra tests build a client for each of these from the artifact.
LAMBDA_BOTOCORE_SERVICES := dynamodb s3 events sts secretsmanager
# Packages that never belong in the Lambda artifact even if something pulls them in.
LAMBDA_EXCLUDE := awscrt OpenSSL pyOpenSSL pytest _pytest moto uvicorn uvloop httptools streamlit

# The repo's tools virtualenv (make tools) has the SAM CLI; fall back to one on PATH.
INFRA_SAM ?= $(if $(wildcard .tools/bin/sam),.tools/bin/sam,sam)
DEPLOY_STACK ?= orders
# The region as the AWS CLI and SAM resolve it: AWS_REGION, AWS_DEFAULT_REGION, else the
# profile's (`aws configure get region` honours AWS_PROFILE). No fallback: a deploy to a
# region nobody chose creates a second stack there. Asked once, and only when a recipe needs
# it (once = $(eval ...)); deploy/destroy/images stop with a clear message when there is none.
once = $(eval $(1) := $(2))$($(1))
DEPLOY_REGION ?= $(call once,DEPLOY_REGION,$(or $(AWS_REGION),$(AWS_DEFAULT_REGION),$(shell aws configure get region 2>/dev/null)))
TARGET ?= lambda
# Stage goes with every deploy: the CLI's --parameter-overrides replaces samconfig.toml's
# whole list, and a parameter left out keeps the stack's previous value, so deploys from a
# laptop and from the workflow flipped it. Its one default is samconfig.toml's (what a bare
# `sam deploy` uses); override with STAGE=prod.
STAGE ?= $(call once,STAGE,$(shell $(INFRA_PYTHON) -c 'import re, tomllib; o = tomllib.load(open("samconfig.toml", "rb"))["default"]["deploy"]["parameters"]["parameter_overrides"]; print(re.search(r"(?:^|\s)Stage=(\S+)", o).group(1))'))
# Extra `sam deploy` flags, e.g. the workflow's artifact bucket, execution role and no prompt.
SAM_DEPLOY_ARGS ?=
IMAGE_TAG ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo latest)
# ECR repositories made by cform/ci.yaml (RepositoryPrefix defaults to the stack name).
ECR_REGISTRY ?= $(call once,ECR_REGISTRY,$(shell aws sts get-caller-identity --query Account --output text 2>/dev/null).dkr.ecr.$(DEPLOY_REGION).amazonaws.com)
API_IMAGE ?= $(ECR_REGISTRY)/$(DEPLOY_STACK)-api:$(IMAGE_TAG)
UI_IMAGE ?= $(ECR_REGISTRY)/$(DEPLOY_STACK)-ui:$(IMAGE_TAG)
DOCKER_PLATFORM := linux/$(if $(filter arm64,$(LAMBDA_ARCH)),arm64,amd64)

# Expanded when a recipe is, before its first line runs (also under make -n).
require-region = $(if $(DEPLOY_REGION),,$(error no AWS region: set AWS_REGION, or the profile's region (aws configure set region <region>)))
# The template's AllowedValues of FargateTrafficPercent, checked before any image is pushed.
# lambda and fargate always pass 0: a parameter left out keeps the stack's previous value,
# and a weight left over from a `both` step would fail the template's rule.
DEPLOY_WEIGHTS := 0 1 5 10 25 50 75 90 95 99 100
require-weight = $(if $(filter both,$(TARGET)),$(if $(filter-out $(DEPLOY_WEIGHTS),$(WEIGHT))$(if $(WEIGHT),,x)$(word 2,$(WEIGHT)),$(error WEIGHT must be one of $(DEPLOY_WEIGHTS) (the share of /api Fargate gets), not "$(WEIGHT)")))
require-stage = $(if $(STAGE),,$(error no Stage: pass STAGE=..., or keep Stage=... in samconfig.toml's [default] parameter_overrides (read with $(INFRA_PYTHON), which needs tomllib: Python 3.11+)))

# $(call push-image,<image reference>,<Dockerfile>)
# ECR tags are immutable: a second deploy of one commit finds its image there and skips the
# build and the push (which ECR would refuse). Any other describe-images error stops here.
# Repository and tag come from the reference, so API_IMAGE/UI_IMAGE overrides stay consistent.
define push-image
	@ref=$(1); repo=$${ref#*/}; repo=$${repo%:*}; tag=$${ref##*:}; \
	err=$$(aws ecr describe-images --region $(DEPLOY_REGION) --repository-name "$$repo" \
	    --image-ids imageTag="$$tag" 2>&1 >/dev/null); rc=$$?; \
	if [ $$rc -eq 0 ]; then \
	  echo "$$ref is already in ECR (tags are immutable): not built or pushed again"; \
	elif printf '%s' "$$err" | grep -q ImageNotFoundException; then \
	  set -ex; \
	  docker build --platform $(DOCKER_PLATFORM) -f $(2) -t "$$ref" .; \
	  docker push "$$ref"; \
	else \
	  echo "$$err" >&2; exit $$rc; \
	fi
endef

.PHONY: build-ApiFunction build-OutboxFunction lambda-deps images deploy deploy-preflight destroy

$(LAMBDA_DEPS)/.stamp: pyproject.toml make/infra.mk containers/python.sh
	rm -rf $(LAMBDA_DEPS) && mkdir -p $(LAMBDA_DEPS)/python
	$(INFRA_PYTHON) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["tracing"]))' > $(LAMBDA_DEPS)/requirements.txt
	$(INFRA_PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile \
	  --target $(LAMBDA_DEPS)/python --implementation cp \
	  --python-version $(LAMBDA_PYTHON_VERSION) --platform $(LAMBDA_PLATFORM) \
	  --only-binary=:all: -r $(LAMBDA_DEPS)/requirements.txt
	cd $(LAMBDA_DEPS)/python && rm -rf bin $(LAMBDA_EXCLUDE) $(addsuffix -*.dist-info,$(LAMBDA_EXCLUDE))
	cd $(LAMBDA_DEPS)/python/botocore/data && find . -mindepth 1 -maxdepth 1 -type d \
	  $(foreach svc,$(LAMBDA_BOTOCORE_SERVICES),! -name $(svc)) -exec rm -rf {} +
	$(LAMBDA_BUILD_PYTHON) $(LAMBDA_COMPILE) $(LAMBDA_DEPS)/python
	@touch $@

lambda-deps: $(LAMBDA_DEPS)/.stamp ## Lambda runtime dependencies for the target platform (cached)

build-ApiFunction build-OutboxFunction: $(LAMBDA_DEPS)/.stamp
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is unset: run sam build" >&2; exit 2; }
	@# .pyc files only load on the interpreter version that wrote them.
	@$(LAMBDA_BUILD_PYTHON) -c 'import sys; v = "%d.%d" % sys.version_info[:2]; sys.exit(0 if v == "$(LAMBDA_PYTHON_VERSION)" else "build needs Python $(LAMBDA_PYTHON_VERSION) (LAMBDA_BUILD_PYTHON is " + v + ")")'
	mkdir -p "$(ARTIFACTS_DIR)"
	cp -a $(LAMBDA_DEPS)/python/. "$(ARTIFACTS_DIR)/"
	cp -R src/orders "$(ARTIFACTS_DIR)/orders"
	find "$(ARTIFACTS_DIR)/orders" -name __pycache__ -prune -exec rm -rf {} +
	$(LAMBDA_BUILD_PYTHON) $(LAMBDA_COMPILE) "$(ARTIFACTS_DIR)/orders"

images: ## build and push the API and UI images unless ECR has them (needs Docker)
	$(require-region)
	aws ecr get-login-password --region $(DEPLOY_REGION) | docker login --username AWS --password-stdin $(ECR_REGISTRY)
	$(call push-image,$(API_IMAGE),containers/api/Dockerfile)
	$(call push-image,$(UI_IMAGE),containers/ui/Dockerfile)

# What differs between the targets is only what make passes: the samconfig environment
# (default for lambda, fargate for fargate and both), DeploymentTarget, the weight (0 off
# `both`: a left-over one would fail the template's rule) and, off lambda, the image URIs.
# Everything else comes from samconfig.toml, whose two environments repeat the same shared
# settings because SAM reads only the named one (tests/infra/test_workflows.py ties them).
DEPLOY_TARGETS := lambda both fargate
SAM_CONFIG_ENV = $(if $(filter lambda,$(TARGET)),default,fargate)
DEPLOY_WEIGHT = $(if $(filter both,$(TARGET)),$(WEIGHT),0)
DEPLOY_IMAGES = $(if $(filter lambda,$(TARGET)),,ApiImageUri=$(API_IMAGE) UiImageUri=$(UI_IMAGE))
require-target = $(if $(filter-out $(DEPLOY_TARGETS),$(TARGET))$(if $(TARGET),,x)$(word 2,$(TARGET)),$(error TARGET must be lambda, both or fargate, not "$(TARGET)"))

# Checked before anything runs, the image build and push included.
deploy-preflight:
	$(require-target)
	$(require-region)
	$(require-stage)
	$(require-weight)

# TARGET=both runs Lambda and Fargate at once; WEIGHT is the share of /api the tasks get
# (template.yaml's FargateTrafficPercent, one of its AllowedValues). A switch is a walk:
# lambda -> both WEIGHT=0 -> raise WEIGHT -> fargate (and back), one deploy a step.
WEIGHT ?= 0
# The fargate and both targets build and push their images first (images runs before the recipe).
deploy: deploy-preflight $(if $(filter fargate both,$(TARGET)),images) ## deploy to AWS: make deploy TARGET=lambda|both|fargate [WEIGHT=0..100] [STAGE=...] (same stack and URL; data is kept on a switch)
	$(INFRA_SAM) build
	$(INFRA_SAM) deploy --config-env $(SAM_CONFIG_ENV) --stack-name $(DEPLOY_STACK) --region $(DEPLOY_REGION) $(SAM_DEPLOY_ARGS) \
	  --parameter-overrides DeploymentTarget=$(TARGET) FargateTrafficPercent=$(DEPLOY_WEIGHT) Stage=$(STAGE) $(DEPLOY_IMAGES) $(DEPLOY_PARAMS)

destroy: ## delete the stack; the table, bucket, key and log groups are retained (see cform/README.md)
	$(require-region)
	$(INFRA_SAM) delete --stack-name $(DEPLOY_STACK) --region $(DEPLOY_REGION) --no-prompts
