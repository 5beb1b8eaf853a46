"""`python -m devstack`: see devstack.run."""

import sys

from devstack.run import main

sys.exit(main())
