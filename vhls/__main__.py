import sys

from vhls.cli import main

sys.exit(main())
