"""A local PowerOffice Go API for tests, demos and benchmarks: server, routes, store.
"""
