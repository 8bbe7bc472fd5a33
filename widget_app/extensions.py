"""Objects created once and bound to the app in ``create_app``: the database proxy and the socket route."""
from flask_sock import Sock
from peewee import DatabaseProxy

db = DatabaseProxy()  # models bind to it; db.init_app points it at DATABASE_URL
sock = Sock()  # the /ws route (realtime.socket) registers on it
