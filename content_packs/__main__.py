"""`python -m content_packs` is the `content-pack` command."""

from content_packs.cli import main

main()
