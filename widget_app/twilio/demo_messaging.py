"""Demo mode: Twilio's Messages API (permission requests). Filled in by the permissions work."""
