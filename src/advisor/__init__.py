"""Target advisor: which target (lambda, fargate, both) is cheaper and faster for a traffic profile.

Pure arithmetic over a price sheet and the deployment's own settings; AWS is read only by
`prices.fetch_live` (the Price List API) and `stack_metrics` (CloudWatch), both optional.
"""
