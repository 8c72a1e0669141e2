"""``framing annotate``: label passages in a local web page, with the model's suggestions and an active-learning order.

- ``source``: the passages to label (articles segmented and scored, or a ``score --passages`` table)
- ``ordering``: which passage to ask next (random, uncertain, diverse), pure functions
- ``head``: the cheap update of the order, a linear head over cached embeddings, fitted in a thread
- ``store``: the labels file (append, flush and fsync per answer; resume; undo)
- ``session``: the state one annotator works through; ``web``: the Starlette app serving it
- ``formats``: Label Studio and Prodigy tasks out, their exported annotations back in
"""
