"""StreamField blocks: ``ProgressiveFormBlock`` and ``GatedContentBlock``."""

from .gated_content import GatedContentBlock
from .progressive_form import ProgressiveFormBlock

__all__ = ["GatedContentBlock", "ProgressiveFormBlock"]
