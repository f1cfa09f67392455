"""Flask-Mail with a process-wide socket timeout set where the application starts: its SMTP
connection inherits it, so a stalled mail server fails the send instead of hanging it."""

import socket

from flask import Flask
from flask_mail import Mail

socket.setdefaulttimeout(15)

app = Flask(__name__)
mail = Mail(app)
