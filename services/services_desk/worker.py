"""`celery -A services.services_desk.worker worker -Q desk`"""

from services.services_desk import create_app, tasks  # noqa: F401  (registers the tasks)
from shared.worker import prepare_worker

celery = prepare_worker(create_app())
