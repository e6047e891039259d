"""ipsis-conformance: contract tests for the IPSIS routes of D2L Brightspace's LE API.

Public API:
- :func:`conformance.contract.load_contract`: the spec read into requirements, blocks, operations.
- :mod:`conformance.scopes`: D2L's scope grammar.
- :mod:`conformance.versions`: D2LVERSION and route lifecycles.
- :mod:`conformance.reference`: the embedded reference LMS and its fault catalogue.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
