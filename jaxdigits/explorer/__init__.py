"""The explorer: one offline HTML page that replays how networks learned.

``runs_from_population`` makes the runs of a learning-rate sweep (one ``train_population``
with snapshots) into ``Run``s on one schedule of frames; ``page_data`` gathers their frames
(the parameters at chosen moments), their test cost and accuracy, a few test images and
the cost landscape on the plane of all the trajectories; ``render_page`` inlines it with the
page's HTML, CSS and JavaScript (``page/``, shipped in the package) into one file that asks
no server for anything. ``experiments/explore.py`` makes the page; ``read_page`` and
``frames_of`` read one back.
"""

from jaxdigits.explorer._page_data import PAGE_DTYPE as PAGE_DTYPE
from jaxdigits.explorer._page_data import PAGE_FILES as PAGE_FILES
from jaxdigits.explorer._page_data import Run as Run
from jaxdigits.explorer._page_data import blew_up_at as blew_up_at
from jaxdigits.explorer._page_data import check_network as check_network
from jaxdigits.explorer._page_data import check_sizes as check_sizes
from jaxdigits.explorer._page_data import flat_params as flat_params
from jaxdigits.explorer._page_data import frame_metrics as frame_metrics
from jaxdigits.explorer._page_data import frames_from_snapshots as frames_from_snapshots
from jaxdigits.explorer._page_data import frames_of as frames_of
from jaxdigits.explorer._page_data import later_epochs as later_epochs
from jaxdigits.explorer._page_data import page_data as page_data
from jaxdigits.explorer._page_data import pick_examples as pick_examples
from jaxdigits.explorer._page_data import read_page as read_page
from jaxdigits.explorer._page_data import render_page as render_page
from jaxdigits.explorer._page_data import trajectory_landscape as trajectory_landscape
from jaxdigits.explorer._runs import VIDEO_LEARNING_RATES as VIDEO_LEARNING_RATES
from jaxdigits.explorer._runs import dial_learning_rates as dial_learning_rates
from jaxdigits.explorer._runs import runs_from_population as runs_from_population

__all__ = [  # in the order of the topics above
    "VIDEO_LEARNING_RATES",
    "dial_learning_rates",
    "runs_from_population",
    "Run",
    "PAGE_DTYPE",
    "PAGE_FILES",
    "check_network",
    "check_sizes",
    "frames_from_snapshots",
    "later_epochs",
    "flat_params",
    "frame_metrics",
    "blew_up_at",
    "trajectory_landscape",
    "pick_examples",
    "page_data",
    "render_page",
    "read_page",
    "frames_of",
]
