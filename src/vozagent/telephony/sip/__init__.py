"""The generic SIP trunk carrier: an asyncio SIP user agent with RTP media."""
