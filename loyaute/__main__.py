"""``python -m loyaute``."""

from loyaute.cli import main

main()
