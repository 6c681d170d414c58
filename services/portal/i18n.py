"""The portal's words in Simplified Chinese (the default) and English.

A catalogue in Python rather than gettext .po/.mo files: nothing to compile, so
`make run` and `make test` need no build step, and a missing English entry is a
KeyError in the tests rather than a silent fallback. Each entry is (zh-CN, en);
`{name}` fields are filled with str.format.
"""

from flask import g, request

from services.portal.catalogue import admin as admin_words
from services.portal.catalogue import counter as counter_words
from services.portal.catalogue import numbers as numbers_words
from services.portal.catalogue import org as org_words
from services.portal.catalogue import organisations as organisations_words
from services.portal.catalogue import resident as resident_words
from services.portal.catalogue import reviews as reviews_words
from services.portal.catalogue import screen as screen_words
from services.portal.catalogue import staff as staff_words

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
LOCALE_COOKIE = "yizhan_lang"
WEEKDAYS = {"zh-CN": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}

MESSAGES = {
    "station_name": ("华垦社区党群服务驿站", "Huaken Community Party–Citizen Service Station"),
    "site_short": ("驿站", "Yizhan"),
    "skip_to_content": ("跳到正文", "Skip to main content"),
    "nav_home": ("首页", "Home"),
    "nav_venues": ("场地预约", "Venues"),
    "nav_sign_in": ("登录", "Sign in"),
    "nav_account": ("我的账户", "My account"),
    "switch_language": ("English", "中文"),
    "switch_language_label": ("Switch to English", "切换到中文"),
    "home_title": ("欢迎来到华垦社区党群服务驿站", "Welcome to the Huaken community service station"),
    "home_intro": ("驿站就在垦家大院小区里，出门不到5分钟就到。周一到周日服务不停歇。",
                   "The station is inside the Kenjia Dayuan estate, five minutes from your door, open seven days a week."),
    "opening_hours": ("开放时间", "Opening hours"),
    "hours_counter": ("便民代办柜台：每天 8:30–12:00，14:30–17:30", "Service counter: daily 8:30–12:00 and 14:30–17:30"),
    "hours_indoor": ("室内场地：每天 8:30–21:00", "Indoor rooms: daily 8:30–21:00"),
    "hours_square": ("文化广场：每天 6:00–22:00", "Culture square: daily 6:00–22:00"),
    "services": ("服务项目", "What we do"),
    "service_errands": ("代办党组织关系转接、基本医保、养老保险、高龄老人补贴等事项",
                        "Errands: Party membership transfers, basic medical insurance, pensions, subsidies for the very old"),
    "service_rooms": ("党建活动区、党群会议室、图书阅览区可预约使用",
                      "The Party activity area, meeting room and reading area can be booked"),
    "service_class": ("“四点半课堂”：上学日 16:30–19:00 看护孩子写作业",
                      "After-school class: school days 16:30–19:00, homework help"),
    "service_birthday": ("每月一次党员政治生日会", "A monthly political-birthday gathering for Party members"),
    "address": ("地址", "Address"),
    "address_text": ("海南省海口市龙华区海垦街道华垦社区垦家大院", "Kenjia Dayuan, Huaken Community, Haiken Subdistrict, Longhua District, Haikou, Hainan"),
    "see_venues": ("查看场地和空闲时间", "See the venues and when they are free"),
    "venues_title": ("场地", "Venues"),
    "venues_intro": ("组织可在线预约以下场地，须提前{notice}个工作日。", "Organisations can book these venues online, {notice} working days ahead."),
    "capacity": ("容纳{capacity}人", "Up to {capacity} people"),
    "area": ("{area}平方米", "{area} m²"),
    "indoor": ("室内", "Indoor"),
    "outdoor": ("室外", "Outdoor"),
    "bookable": ("可预约", "Can be booked"),
    "not_bookable": ("不对外预约", "Not open for booking"),
    "venue_week": ("空闲情况", "Free and busy times"),
    "venue_week_of": ("{first} 至 {last} 的空闲情况", "Free and busy, {first} to {last}"),
    "day_past": ("已过去", "This day has passed"),
    "day_too_soon": ("太近了，不能预约（需提前{notice}个工作日）", "Too soon to book ({notice} working days' notice)"),
    "earliest": ("最早可预约 {date}，需提前{notice}个工作日", "Earliest booking: {date} ({notice} working days' notice)"),
    "free": ("空闲", "Free"),
    "busy": ("已占用", "Busy"),
    "station_session": ("驿站活动", "Station activity"),
    "closed": ("不开放", "Closed"),
    "nothing_free": ("全天已满", "Fully booked"),
    "previous_week": ("上一周", "Previous week"),
    "next_week": ("下一周", "Next week"),
    "back_to_venues": ("返回场地列表", "Back to the venues"),
    "sign_in_title": ("登录", "Sign in"),
    "sign_in_intro": ("请输入您的手机号，我们会发送6位验证码。组织联系人用登记的手机号登录即可预约场地。",
                      "Enter your mobile number and we will text you a 6-digit code. An organisation's contact signs in "
                      "with the number the station has on file to book venues."),
    "phone_label": ("手机号", "Mobile number"),
    "phone_hint": ("11位手机号，例如 138 0000 0001", "11 digits, for example 138 0000 0001"),
    "send_code": ("获取验证码", "Text me a code"),
    "code_title": ("输入验证码", "Enter the code"),
    "code_sent": ("如果这个号码可以接收短信，验证码已发送到 {phone}，5分钟内有效。",
                  "If this number can receive texts, a code has been sent to {phone}. It is valid for 5 minutes."),
    "code_label": ("6位验证码", "6-digit code"),
    "sign_in_button": ("登录", "Sign in"),
    "send_again": ("重新获取验证码", "Text me a new code"),
    "other_phone": ("换一个手机号", "Use another number"),
    "signed_in_as": ("您已登录：{phone}", "You are signed in: {phone}"),
    "role_resident": ("居民", "Resident"),
    "role_org": ("{name}的联系人", "Contact of {name}"),
    "role_line": ("身份：{role}", "Signed in as: {role}"),
    "sign_out": ("退出登录", "Sign out"),
    "sign_out_everywhere": ("在所有设备上退出", "Sign out on every device"),
    "signed_out": ("您已退出登录。", "You are signed out."),
    "error_summary": ("请修改以下问题", "There is a problem"),
    "required": ("请填写此项", "This field is required"),
    "phone_invalid": ("请输入正确的11位手机号", "Enter a valid 11-digit mainland mobile number"),
    "code_format": ("验证码是6位数字", "The code is 6 digits"),
    "code_too_soon": ("请等{seconds}秒后再获取新验证码", "Wait {seconds} seconds before asking for a new code"),
    "code_daily_cap": ("今天获取验证码的次数已达上限，请明天再试", "Too many codes today; try again tomorrow"),
    "code_expired": ("验证码已失效，请重新获取", "The code has expired or was already used; ask for a new one"),
    "code_wrong": ("验证码不正确，还可以再试{left}次", "That code is wrong; {left} tries left"),
    "code_locked": ("错误次数过多，此验证码已失效，请重新获取", "Too many wrong tries: this code has ended; ask for a new one"),
    "account_disabled": ("此账户已停用，请联系驿站工作人员", "This account is disabled; please contact the station staff"),
    "booking_unavailable": ("暂时无法登录，请稍后再试", "Sign-in is not available right now; try again shortly"),
    "csrf_failed": ("页面已过期，请返回后重试", "This page has expired; go back and try again"),
    "error_title": ("出错了", "Something went wrong"),
    "not_found": ("找不到这个页面", "Page not found"),
    "forbidden": ("您无权访问这个页面", "You may not see this page"),
    "server_error": ("服务暂时出现问题，请稍后再试", "Something went wrong on our side; try again shortly"),
    "api_unavailable": ("服务暂时不可用，请稍后再试", "The service is not answering; try again shortly"),
    "bad_request": ("请求无效", "The request is not valid"),
    "too_many": ("请求过于频繁，请稍后再试", "Too many requests; slow down and try again"),
    "go_home": ("返回首页", "Go to the home page"),
    "footer": ("华垦社区党群服务驿站 · 服务在驿站，有事立刻办", "Huaken community station · here to help, every day"),
}

for _area in (org_words, resident_words, staff_words, reviews_words, counter_words, organisations_words, admin_words,
              numbers_words, screen_words):
    if MESSAGES.keys() & _area.MESSAGES.keys():
        raise RuntimeError(f"message ids defined twice: {sorted(MESSAGES.keys() & _area.MESSAGES.keys())}")
    MESSAGES.update(_area.MESSAGES)


def locale() -> str:
    """The visitor's language: their choice (a cookie), else zh-CN."""
    if "locale" not in g:
        chosen = request.cookies.get(LOCALE_COOKIE)
        g.locale = chosen if chosen in LOCALES else DEFAULT_LOCALE
    return g.locale


def t(message_id: str, **params) -> str:
    zh, en = MESSAGES[message_id]
    text = en if locale() == "en" else zh
    return text.format(**params) if params else text


def both(message_id: str, **params) -> str:
    """Chinese first, English beside it: how the station writes an error (README, style),
    in either language, so a reader who switched by mistake still understands."""
    zh, en = MESSAGES[message_id]
    return f"{zh.format(**params)} {en.format(**params)}" if params else f"{zh} {en}"


def month_day(day, current=None) -> str:
    """12月7日（周一） or Mon 7 Dec."""
    current = current or locale()
    if current == "en":
        return f"{WEEKDAYS['en'][day.weekday()]} {day.day} {day.strftime('%b')}"
    return f"{day.month}月{day.day}日（周{WEEKDAYS['zh-CN'][day.weekday()]}）"
