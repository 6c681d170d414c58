"""Flask-WTF forms: every field has a label, every error sits next to its field.

Labels and messages are message ids (services/portal/i18n.py), turned into words
when the page is drawn, so one form serves both languages.
"""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Regexp


class PhoneForm(FlaskForm):
    phone = StringField("phone_label", validators=[InputRequired("required")])


class CodeForm(FlaskForm):
    code = StringField("code_label", validators=[InputRequired("required"), Regexp(r"^\s*\d{6}\s*$", message="code_format")])



class StaffPasswordForm(FlaskForm):
    username = StringField("staff_username_label", validators=[InputRequired("required")])
    # PasswordField never writes the password back into the page (wtforms/fields/simple.py).
    password = PasswordField("staff_password_label", validators=[InputRequired("required")])


class StaffCodeForm(FlaskForm):
    code = StringField("staff_code_label", validators=[InputRequired("required"),
                                                       Regexp(r"^\s*\d{6}\s*$", message="code_format")])
