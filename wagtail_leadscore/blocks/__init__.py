"""StreamField blocks: ``ProgressiveFormBlock``."""

from .progressive_form import ProgressiveFormBlock

__all__ = ["ProgressiveFormBlock"]
