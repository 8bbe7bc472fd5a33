"""Everything that talks to Twilio: REST client, TwiML, verified webhooks, and demo mode's cloud."""
