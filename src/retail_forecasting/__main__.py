"""retail-forecasting file for ensuring the package is executable
as `retail-forecasting` and `python -m retail_forecasting`

`retail-forecasting serve [--port 8000 --alias champion ...]` starts the serving API
(:mod:`retail_forecasting.serving.server`); anything else is the Kedro project's `run` command.
"""

import sys
from pathlib import Path
from typing import Any

from kedro.framework.cli.utils import find_run_command
from kedro.framework.project import configure_project


def main(*args, **kwargs) -> Any:
    if not args and sys.argv[1:2] == ["serve"]:
        from retail_forecasting.serving.server import main as serve

        sys.exit(serve(sys.argv[2:]))
    package_name = Path(__file__).parent.name
    configure_project(package_name)

    interactive = hasattr(sys, "ps1")
    kwargs["standalone_mode"] = not interactive

    run = find_run_command(package_name)
    return run(*args, **kwargs)


if __name__ == "__main__":
    main()
