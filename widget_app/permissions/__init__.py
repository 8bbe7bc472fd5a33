"""Call permissions: Meta's rules as pure functions, the ledger that stores them, the WhatsApp request and reply messages, the routes."""
