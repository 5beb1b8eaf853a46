"""Local development stack: the whole orders system on loopback, no AWS account, no Docker.

`python -m devstack` (what `make dev` runs) starts moto in-process, deploys
cform/data.yaml into moto's CloudFormation, then runs the API with the container's
own command, the outbox publisher as a loop over the table's stream, and the UI.
Nothing here is imported by the service: it is tooling around `orders`.
"""
