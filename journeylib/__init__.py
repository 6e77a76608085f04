"""journeylib: the computing half of the Customer Journey Workbook.

Notebooks under ``notebooks/`` narrate; the modules here compute. See ARCHITECTURE.md for the
module map and the raw -> processed -> analyses -> report data flow.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
