"""Twilio: REST call control, signed status callbacks, and Media Streams over a WebSocket."""
