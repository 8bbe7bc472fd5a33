"""CPU-bound calls (the scrypt password hash) kept off gevent's event loop.

Under gunicorn's gevent worker every socket and request of a process shares one OS thread: a 50 ms
hash would stall them all. hashlib.scrypt releases the GIL, so a real thread from gevent's pool runs
it while the loop goes on. Without gevent (tests, the gthread worker, the CLI) it is a plain call.
"""
from gevent import get_hub, monkey


def run_blocking(fn, *args):
    """``fn(*args)``, in one of gevent's OS threads when the process is monkey-patched."""
    if monkey.is_module_patched("threading"):
        return get_hub().threadpool.apply(fn, args)
    return fn(*args)
