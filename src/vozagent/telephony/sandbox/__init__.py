"""The built-in sandbox carrier: a simulated telephone network inside vozagent."""
