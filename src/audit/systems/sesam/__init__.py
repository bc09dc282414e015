"""Sesam: reading a dataset (a global dataset's ``$ids``, for the audit's links) from a
node's Service API, and a local stand-in serving one.

- :mod:`~audit.systems.sesam.settings`: the JWT and tuning from the environment or ``.env``;
- :mod:`~audit.systems.sesam.client`: ``GET <node>/api/datasets/<id>/entities`` in pages,
  with retries, written atomically as the export file ``audit run --links`` reads;
- :mod:`~audit.systems.sesam.sim`: the simulator's ``/api/datasets/<id>/entities``.
"""
