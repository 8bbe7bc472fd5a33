"""The admin console (/admin): a first-party page where an admin runs the team's calling (issue 18)."""
