# The Docker tier (tests/docker, pytest marker `docker`): images made without a registry.
#   make docker-images   the Debian python3.11 base (debootstrap, needs root), the Lambda
#                        python3.11 base SAM expects, and the wheelhouse; cached in .cache/
# `make test` runs the tier only when a Docker engine answers; .ci/run starts one first.

.PHONY: docker-images

docker-images: $(STAMP) ## make the Docker tier's local images and wheelhouse (root, debootstrap, a running dockerd)
	$(PY) -m tests.docker.images
