"""Fixtures shared across test modules."""

# The PowerOffice Go connector/simulator fixtures (po_clean_env, po_seed, po_sim, ...).
pytest_plugins = ["poweroffice_fixtures"]
