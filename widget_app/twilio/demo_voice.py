"""Demo mode: Twilio's Calls API and the demo phone's call progress. Filled in by the outbound work."""
