"""Flask-Mail opens its SMTP connection with no timeout and has no setting for one: a mail
server that stops answering blocks whatever sends, whether the extension is bound to the app
at once or later by an application factory. A process-wide socket default bounds it."""

import flask_mail
from flask import Flask
from flask_mail import Mail

app = Flask(__name__)
app.config.from_prefixed_env()
mail = Mail(app)  # expect: timeouts
notifications = flask_mail.Mail()  # expect: timeouts


def create_app() -> Flask:
    factory_app = Flask(__name__)
    notifications.init_app(factory_app)
    return factory_app
