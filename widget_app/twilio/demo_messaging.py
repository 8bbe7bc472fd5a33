"""Demo mode: Twilio's Messages API (permission requests). Filled in by the permissions work."""
from ..dev import demo_blueprint

bp = demo_blueprint("demo_messaging", __name__)
