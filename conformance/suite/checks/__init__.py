"""The suite's checks, one module per family; importing registers each module's planners.
Run order is each planner's ``order``: reads first, then what changes data, audits last."""

from conformance.suite.checks import (
    audit,
    nullability,
    properties,
    scopes,
    signed_url,
    status,
    sweep,
    versions,
)

__all__ = ["audit", "nullability", "properties", "scopes", "signed_url", "status", "sweep", "versions"]
