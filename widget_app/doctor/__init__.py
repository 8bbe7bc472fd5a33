"""`flask doctor`: check a live set-up against the real services, one line per check, each problem with its fix."""
