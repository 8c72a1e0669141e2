"""framing: how news outlets frame the same story.

The data flows one way, one module per stage:

    articles (``articles``) -> passages (``segmentation``) -> frame probabilities (``models``)
    -> article mixes (``scoring``) -> comparisons (``comparison``) and reports (``reports``)

The frame names come from a codebook (``codebook``); labeled data lives in ``corpus``.
Heavy libraries (torch, transformers, scikit-learn) are imported lazily, inside the functions that
need them, so that importing the package and starting the CLI stay fast.
"""

__version__ = "0.1.0"
