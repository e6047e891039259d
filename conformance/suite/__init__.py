"""The IPSIS conformance suite: checks in a registry (``checks/``), run by an engine
(``runner.run_suite``) or as pytest items (``plugin``, ``test_ipsis``)."""
