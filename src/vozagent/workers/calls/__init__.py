"""Calls at run time: the dialer, and the runtime that carriers report to."""
