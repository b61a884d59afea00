"""The project's Kedro hooks, one concern each; ``settings.HOOKS`` lists them in order.

* ``checks``: what must hold before a run starts (the tracking server answers,
  a game's pipeline names run in their game, parameters are valid); each
  stops the run before its first node, and before any MLflow run is opened.
* ``tracking``: kedro-mlflow's hook with its run state kept to one session,
  and the tags every tracked run carries.
"""
