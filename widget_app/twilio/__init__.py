"""Twilio: the REST client, webhook signatures and routes, browser access tokens, TwiML, and reading its forms."""
