"""`celery -A services.booking.worker worker -Q booking`"""

from services.booking import create_app, tasks  # noqa: F401  (registers the tasks)
from shared.worker import prepare_worker

celery = prepare_worker(create_app())
