"""mivid: Kling AI Multi-Image to Video and Omni-Video from the command line.

Kept import-free on purpose: `mivid --version` reads `__version__` without
loading Typer, httpx or rich.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
