"""``python -m percontrast <command>``: the same as the ``percontrast`` console command."""

from percontrast.commands import main

main()
