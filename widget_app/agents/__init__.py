"""Agents: the people who sign in to the widget: accounts and tokens, sign-in limits, sign-in routes, CLI."""
