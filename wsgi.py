"""WSGI entry point for gunicorn (see Procfile)."""
from widget_app import create_app

app = create_app()
