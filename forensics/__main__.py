"""`python -m forensics` is the `forensics` command."""
import sys

from .cli import main

sys.exit(main())
