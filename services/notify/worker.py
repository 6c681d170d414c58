"""`celery -A services.notify.worker worker -Q notify`"""

from services.notify import create_app, tasks  # noqa: F401  (registers the tasks)
from shared.worker import prepare_worker

celery = prepare_worker(create_app())
