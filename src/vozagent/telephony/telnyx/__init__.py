"""Telnyx: Call Control v2 and bidirectional media streaming."""
