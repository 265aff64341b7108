"""The images: MNIST and its relatives, their files, their pixels, and variants of them.

- ``load_dataset``: MNIST (60,000 training and 10,000 test images, 784 float32 pixels in
  [0, 1] each) through tensorflow-datasets, offline from a folder of the four original files
  (``$JAXDIGITS_MNIST_DIR``), or Fashion-MNIST, KMNIST and scikit-learn's 8×8 digits;
- the IDX file format (``read_idx``, ``check_mnist_folder``): damaged files get an error that
  names the file;
- pixels kept on the device as bytes and decoded exactly (``resident_pixels``,
  ``pixels_as_float``);
- augmentation (``make_augment``: random shifts, rotations, scalings and shears of each
  mini-batch, inside the compiled epoch), and the table of shifted copies that makes a
  random shift a plain gather (``shift_table``, ``make_gather``: a training mini-batch);
- a drawn digit made to look like an MNIST image (``mnist_style``), as the explorer page does.
"""

from jaxdigits.data._augment import AUGMENTATIONS as AUGMENTATIONS
from jaxdigits.data._augment import affine_images as affine_images
from jaxdigits.data._augment import augment_keys as augment_keys
from jaxdigits.data._augment import check_augment as check_augment
from jaxdigits.data._augment import image_side as image_side
from jaxdigits.data._augment import make_augment as make_augment
from jaxdigits.data._augment import random_affine_matrices as random_affine_matrices
from jaxdigits.data._augment import random_shifts as random_shifts
from jaxdigits.data._augment import shift_images as shift_images
from jaxdigits.data._datasets import DATASETS as DATASETS
from jaxdigits.data._datasets import MNIST_DIR_ENV as MNIST_DIR_ENV
from jaxdigits.data._datasets import READERS as READERS
from jaxdigits.data._datasets import TFDS_DATASETS as TFDS_DATASETS
from jaxdigits.data._datasets import Dataset as Dataset
from jaxdigits.data._datasets import load_dataset as load_dataset
from jaxdigits.data._datasets import split_validation as split_validation
from jaxdigits.data._drawing import area_weights as area_weights
from jaxdigits.data._drawing import mnist_style as mnist_style
from jaxdigits.data._idx import MNIST_FILES as MNIST_FILES
from jaxdigits.data._idx import check_mnist_folder as check_mnist_folder
from jaxdigits.data._idx import file_sha256 as file_sha256
from jaxdigits.data._idx import parse_idx as parse_idx
from jaxdigits.data._idx import read_idx as read_idx
from jaxdigits.data._pixels import decode_pixels as decode_pixels
from jaxdigits.data._pixels import encode_pixels as encode_pixels
from jaxdigits.data._pixels import pixel_decode_is_exact as pixel_decode_is_exact
from jaxdigits.data._pixels import pixel_table as pixel_table
from jaxdigits.data._pixels import pixels_as_float as pixels_as_float
from jaxdigits.data._pixels import resident_pixels as resident_pixels
from jaxdigits.data._shift_table import SHIFT_TABLE_BYTES as SHIFT_TABLE_BYTES
from jaxdigits.data._shift_table import make_gather as make_gather
from jaxdigits.data._shift_table import shift_moves as shift_moves
from jaxdigits.data._shift_table import shift_table as shift_table
from jaxdigits.data._shift_table import shift_table_bytes as shift_table_bytes
from jaxdigits.data._shift_table import table_rows as table_rows
from jaxdigits.data._shift_table import uses_shift_table as uses_shift_table

__all__ = [  # in the order of the topics above
    "MNIST_DIR_ENV",
    "TFDS_DATASETS",
    "DATASETS",
    "Dataset",
    "READERS",
    "load_dataset",
    "split_validation",
    "MNIST_FILES",
    "file_sha256",
    "parse_idx",
    "read_idx",
    "check_mnist_folder",
    "decode_pixels",
    "pixel_table",
    "pixel_decode_is_exact",
    "encode_pixels",
    "resident_pixels",
    "pixels_as_float",
    "AUGMENTATIONS",
    "image_side",
    "check_augment",
    "augment_keys",
    "shift_images",
    "affine_images",
    "random_affine_matrices",
    "random_shifts",
    "make_augment",
    "SHIFT_TABLE_BYTES",
    "shift_moves",
    "shift_table_bytes",
    "shift_table",
    "table_rows",
    "uses_shift_table",
    "make_gather",
    "area_weights",
    "mnist_style",
]
