"""The audit's core: snapshots read into frames, links, comparison, findings, the policy
and the engine that runs them. It knows no vendor: what is particular to a system
reaches it through a :class:`audit.flow.profile.SystemProfile`.
"""
