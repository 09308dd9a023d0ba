"""The Azure collector: subscriptions, storage, RBAC and Key Vault into CloudQuery-shaped tables.

Read-only by construction: every HTTP request the SDK clients make passes a transport that lets
only GET through (see `context`). Modules mirror `opencwpp.collect.aws`: one per service, each
declaring its tables, the Azure RBAC read permissions it needs and a fetch.
"""
