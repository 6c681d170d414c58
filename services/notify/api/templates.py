"""Message templates, per key and locale."""

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from services.notify.context import notify_context
from services.notify.domain.template_edits import check_placeholders_kept, check_texts, merged_texts, preview
from services.notify.domain.templates import TEXTS
from services.notify.models import Template
from services.notify.schemas import (TemplateEditSchema, TemplatePage, TemplatePreviewSchema, TemplateSchema,
                                     TemplateUpdateSchema)
from shared.api import Blueprint
from shared.audit import record_change
from shared.auth import requires
from shared.errors import NotFound
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


@blp.route("/<key>")
class TemplateByKey(MethodView):
    @requires("admin")
    @blp.arguments(TemplateUpdateSchema)
    @blp.response(200, TemplateSchema)
    def put(self, data, key):
        """Create or replace the template `key` in one locale (`zh-CN` by default).

        Placeholders are plain `{name}` only; the SMS text, each placeholder at its longest
        (NOTIFY_SMS_PARAM_MAX_CHARS Chinese characters), may be NOTIFY_TEMPLATE_SMS_MAX_CHARS long."""
        check_texts(data, notify_context().policy)
        with current_runtime().database.transaction() as session:
            existing = session.scalar(select(Template).where(Template.key == key, Template.locale == data["locale"]))
            before = template_fields(existing) if existing is not None else None
            template = existing or Template(key=key, locale=data["locale"])
            for name, value in data.items():
                setattr(template, name, value)
            session.add(template)
            record_change(session, g.principal, "template.update" if existing else "template.create",
                          template_subject(template), before=before, after=template_fields(template))
            return template

    @requires("admin")
    @blp.arguments(TemplateEditSchema)
    @blp.response(200, TemplateSchema)
    def patch(self, data, key):
        """Change some texts of an existing template in one locale. Checked as PUT checks, and its
        placeholders must stay those its senders fill: a new `{name}` (no sender sends it) or one no
        longer used anywhere (a sender's value would be unknown) is refused."""
        policy = notify_context().policy
        with current_runtime().database.transaction() as session:
            template = saved_template(session, key, data.pop("locale"))
            texts = merged_texts(template, data)
            check_texts(texts, policy)
            check_placeholders_kept(template, texts)
            before = template_fields(template)
            for name, value in data.items():
                setattr(template, name, value)
            record_change(session, g.principal, "template.update", template_subject(template), before=before,
                          after=template_fields(template))
            return template


# What a template is, for its audit entries: its texts and the provider's template code.
AUDITED = TEXTS + ("sms_template_code",)


def template_fields(template: Template) -> dict:
    return {name: getattr(template, name) for name in AUDITED}


def template_subject(template: Template) -> str:
    return f"template:{template.key}:{template.locale}"


def saved_template(session, key: str, locale: str) -> Template:
    template = session.scalar(select(Template).where(Template.key == key, Template.locale == locale))
    if template is None:
        raise NotFound(f"没有模板 {key} ({locale}) No template {key!r} in {locale}.")
    return template


@blp.route("/<key>/preview")
class TemplatePreview(MethodView):
    @requires("admin")
    @blp.arguments(TemplateEditSchema)
    @blp.response(200, TemplatePreviewSchema)
    def post(self, data, key):
        """The template as it would read after these changes, rendered with sample values by the
        same code that sends it, with the SMS length and segment count; refused as a save would be.
        Nothing is saved."""
        with current_runtime().database.reader() as session:
            template = saved_template(session, key, data.pop("locale"))
            return preview(template, data, notify_context().policy)
