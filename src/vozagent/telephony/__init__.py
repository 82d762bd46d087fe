"""Telephony: carriers behind one interface, and the media edge that turns their audio into
PCM16 frames for the voice pipeline. Never imports domain, storage, api or config: the
workers wire carriers to the domain through :class:`~vozagent.telephony.carrier.CarrierEvents`.
"""
