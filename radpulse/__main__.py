"""`python -m radpulse` runs the CLI."""

from radpulse.cli.main import main

main()
