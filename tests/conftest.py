"""pytest set-up: a headless matplotlib backend for the test process only.

Never export MPLBACKEND: nbval kernels inherit the environment and would lose their inline figures.
"""

import matplotlib

matplotlib.use("Agg")
