"""The cost landscape of any JAX model: lines, planes, curvature and paths through parameter space.

The model is ``loss(params, batch) -> scalar`` over any pytree of parameters (Flax NNX or
Linen, Equinox, Haiku, plain dicts), the data one batch or an iterable of batches (the
contract: ``Batches``, ``SpanLoss``). On it:

- directions worth looking along (``random_direction`` with Li et al.'s filter normalisation,
  ``filter_axes``, ``direction_between``, ``plane_through``, ``pca_directions`` of a training
  trajectory, ``gradient_direction``, the eigenvectors of ``top_eigenvalues``) and the pytree
  maths under them (``unit``, ``shift``);
- grids (``line``, ``surface``): the cost and any metric at every point of a slice or a plane,
  the whole grid one compiled program, chunked over points and batches and spread over the
  devices and processes; a surface can keep its finished points in a self-describing HDF5
  file and resume from it (``open_surface_file``);
- curvature through ``matfree`` (``top_eigenvalues`` by Lanczos, ``hessian_trace`` by
  Hutchinson, ``spectral_density`` by stochastic Lanczos quadrature), from Hessian-vector
  products, never the Hessian itself;
- paths between minima (``path_metrics`` along a line or a Bézier curve, ``train_curve``
  with optax, ``barrier``);
- their figures (``plot_slices``, ``plot_contour``, ``plot_surface_3d``, ``plot_density``).
"""

from jaxdigits.landscape._contract import Batches as Batches
from jaxdigits.landscape._contract import SpanLoss as SpanLoss
from jaxdigits.landscape._curvature import Eigen as Eigen
from jaxdigits.landscape._curvature import SpectralDensity as SpectralDensity
from jaxdigits.landscape._curvature import Trace as Trace
from jaxdigits.landscape._curvature import data_cost as data_cost
from jaxdigits.landscape._curvature import hessian_trace as hessian_trace
from jaxdigits.landscape._curvature import hvp as hvp
from jaxdigits.landscape._curvature import spectral_density as spectral_density
from jaxdigits.landscape._curvature import top_eigenvalues as top_eigenvalues
from jaxdigits.landscape._directions import NORMS as NORMS
from jaxdigits.landscape._directions import PCA as PCA
from jaxdigits.landscape._directions import direction_between as direction_between
from jaxdigits.landscape._directions import filter_axes as filter_axes
from jaxdigits.landscape._directions import gradient_direction as gradient_direction
from jaxdigits.landscape._directions import normalize as normalize
from jaxdigits.landscape._directions import pca_directions as pca_directions
from jaxdigits.landscape._directions import plane_through as plane_through
from jaxdigits.landscape._directions import random_direction as random_direction
from jaxdigits.landscape._figures import masked as masked
from jaxdigits.landscape._figures import plot_contour as plot_contour
from jaxdigits.landscape._figures import plot_density as plot_density
from jaxdigits.landscape._figures import plot_slices as plot_slices
from jaxdigits.landscape._figures import plot_surface_3d as plot_surface_3d
from jaxdigits.landscape._files import open_surface_file as open_surface_file
from jaxdigits.landscape._grids import METHODS as METHODS
from jaxdigits.landscape._grids import Landscape as Landscape
from jaxdigits.landscape._grids import axis as axis
from jaxdigits.landscape._grids import evaluate as evaluate
from jaxdigits.landscape._grids import grid_program as grid_program
from jaxdigits.landscape._grids import line as line
from jaxdigits.landscape._grids import surface as surface
from jaxdigits.landscape._paths import CurveResult as CurveResult
from jaxdigits.landscape._paths import PathMetrics as PathMetrics
from jaxdigits.landscape._paths import barrier as barrier
from jaxdigits.landscape._paths import bernstein as bernstein
from jaxdigits.landscape._paths import bezier as bezier
from jaxdigits.landscape._paths import check_ts as check_ts
from jaxdigits.landscape._paths import path_metrics as path_metrics
from jaxdigits.landscape._paths import train_curve as train_curve
from jaxdigits.landscape._trees import check_like as check_like
from jaxdigits.landscape._trees import flatten as flatten
from jaxdigits.landscape._trees import norm as norm
from jaxdigits.landscape._trees import shift as shift
from jaxdigits.landscape._trees import unit as unit

__all__ = [  # in the order of the topics above
    "Batches",
    "SpanLoss",
    "NORMS",
    "filter_axes",
    "normalize",
    "random_direction",
    "direction_between",
    "plane_through",
    "PCA",
    "pca_directions",
    "gradient_direction",
    "check_like",
    "norm",
    "unit",
    "shift",
    "flatten",
    "METHODS",
    "Landscape",
    "axis",
    "line",
    "surface",
    "open_surface_file",
    "evaluate",
    "grid_program",
    "data_cost",
    "hvp",
    "Eigen",
    "top_eigenvalues",
    "Trace",
    "hessian_trace",
    "SpectralDensity",
    "spectral_density",
    "bernstein",
    "bezier",
    "check_ts",
    "PathMetrics",
    "path_metrics",
    "barrier",
    "CurveResult",
    "train_curve",
    "masked",
    "plot_slices",
    "plot_contour",
    "plot_surface_3d",
    "plot_density",
]
