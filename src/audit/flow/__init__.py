"""The flow: a Sesam Talk dataflow document parsed into a flow model, and flow paths
resolved to frame columns.
"""
