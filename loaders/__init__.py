"""Read, validate and normalise open data and partner files into the store.

``loaders`` knows files and formats. It never imports ``dashboard`` or Streamlit.
"""

from loaders.config import Region, data_dir, default_region, load_regions
from loaders.errors import ConfigError, LoaderError, StoreMissingError
from store.settings import store_path

__all__ = ["ConfigError", "LoaderError", "Region", "StoreMissingError", "data_dir",
           "default_region", "load_regions", "store_path"]
