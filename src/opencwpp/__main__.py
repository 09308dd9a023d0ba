"""`python -m opencwpp` runs the `cwpp` command line."""

from opencwpp.cli import main

main()
