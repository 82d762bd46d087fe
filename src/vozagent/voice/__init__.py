"""The voice side of a call: the media link the pipeline consumes, the pipeline itself, its
providers and the offline test fakes. Imports only ``core``."""
