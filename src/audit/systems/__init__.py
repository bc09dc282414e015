"""The systems the toolkit speaks to, one package each. Each registers a
:class:`audit.flow.profile.SystemProfile` under the ``audit.systems`` entry point group.
"""
