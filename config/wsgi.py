import os

from django.core.wsgi import get_wsgi_application

from unionaid.core.crypto import require_keys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# No real encryption keys and dev keys off (the default without DEBUG): refuse to start.
require_keys()
