"""Plain Python every layer may use: the clock, phone numbers, the domain error. No Flask, no database."""
