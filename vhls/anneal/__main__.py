"""`python -m vhls.anneal FILE ...` until the main CLI registers `vhls anneal`."""

import sys

from vhls.anneal.cli import main

sys.exit(main())
