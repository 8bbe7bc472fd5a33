"""Demo mode: Twilio's Calls API and the demo phone's call progress. Filled in by the outbound work."""
from ..dev import demo_blueprint

bp = demo_blueprint("demo_voice", __name__)
