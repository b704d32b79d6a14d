"""retail-forecasting"""

__version__ = "0.1"
