"""The project's modular pipelines, one folder each, discovered by ``find_pipelines``."""
