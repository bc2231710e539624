"""`python -m poi_service.cli` runs the command line."""

from poi_service.cli.group import main

main()
