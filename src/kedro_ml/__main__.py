"""Run the packaged project as ``kedro-ml`` or ``python -m kedro_ml``."""

import sys
from pathlib import Path
from typing import Any

from kedro_ml.runtime import use_project_logging


def main(*args, **kwargs) -> Any:
    """Run the project's ``kedro run`` command with the given CLI arguments."""
    argv = list(args[0]) if args and isinstance(args[0], list | tuple) else sys.argv[1:]
    # before Kedro is imported: it sets up logging as it is imported
    use_project_logging(argv)
    from kedro.framework.cli.utils import find_run_command
    from kedro.framework.project import configure_project

    package_name = Path(__file__).parent.name
    configure_project(package_name)
    kwargs["standalone_mode"] = not hasattr(sys, "ps1")
    run = find_run_command(package_name)
    return run(*args, **kwargs)


if __name__ == "__main__":
    main()
