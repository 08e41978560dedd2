"""The bottom layer: configuration (personas and ``[aws]`` included), the run plan, the
compact ledger and other run artefacts, histogram helpers and the exception root.

Nothing here imports another streamload layer; everything above may import it.
"""
