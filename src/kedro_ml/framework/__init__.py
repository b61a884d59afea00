"""The base that hooks and orchestration stand on: what a run and a project command share.

* ``locks``: file locks with a note of their holder (a game's data, a store).
* ``store``: the tracking URI of a run, a server that must answer, an sqlite
  store created once.
* ``resolvers``: configuration resolvers (``km.project_path``).
* ``lineage``: run names, the run that triggered another, owner tags, runs
  left RUNNING by killed processes, the raw data a run read.
* ``catalog``: what the project reads of a catalog through Kedro's public API
  (a dataset's file path, its metadata).

Nothing here decides anything about models; ``kedro_ml.hooks`` adapts it to
Kedro's hook calls and ``kedro_ml.orchestration`` uses it directly.
"""
