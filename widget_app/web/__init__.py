"""The web layer: the widget page and health check, errors, security headers, the API guard, JSON bodies."""
