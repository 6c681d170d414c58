"""Message templates, per key and locale."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.notify.models import Template
from services.notify.schemas import TemplatePage
from shared.auth import requires
from shared.http_schemas import PageArgs, paginate
from shared.service_app import current_runtime

blp = Blueprint("templates", __name__, url_prefix="/templates", description="模板 Message templates")


@blp.route("")
class Templates(MethodView):
    @requires("staff")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TemplatePage)
    def get(self, args):
        with current_runtime().database.reader() as session:
            return paginate(session, select(Template).order_by(Template.key, Template.locale), args)
