"""Calls: placing outbound calls, their progress from Twilio, inbound ringing and claiming, senders, recordings, history."""
