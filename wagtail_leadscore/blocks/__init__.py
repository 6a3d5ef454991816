"""StreamField blocks: ``ProgressiveFormBlock``, ``GatedContentBlock``,
``GatedDocumentBlock`` (a document inside a gate) and ``SegmentContentBlock``."""

from .gated_content import GatedContentBlock
from .gated_document import GatedDocumentBlock
from .progressive_form import ProgressiveFormBlock
from .segment_content import SegmentContentBlock

__all__ = ["GatedContentBlock", "GatedDocumentBlock", "ProgressiveFormBlock",
           "SegmentContentBlock"]
