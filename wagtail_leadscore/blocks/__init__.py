"""StreamField blocks: ``ProgressiveFormBlock``, ``GatedContentBlock`` and
``GatedDocumentBlock`` (a document inside a gate)."""

from .gated_content import GatedContentBlock
from .gated_document import GatedDocumentBlock
from .progressive_form import ProgressiveFormBlock

__all__ = ["GatedContentBlock", "GatedDocumentBlock", "ProgressiveFormBlock"]
