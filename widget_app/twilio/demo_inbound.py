"""Demo mode: a WhatsApp user calling in ("contact calls in"). Filled in by the inbound work."""
from ..dev import demo_blueprint

bp = demo_blueprint("demo_inbound", __name__)
