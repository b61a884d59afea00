"""The project's base pipelines, one folder each; ``pipeline_registry`` composes them."""
