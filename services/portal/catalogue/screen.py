"""The words of the portal's screen pages, (zh-CN, en) by message id; merged into i18n.MESSAGES."""

MESSAGES = {
    # the admin's page
    "scr_manage_title": ("电子大屏和场地二维码", "Big screen and venue QR codes"),
    "scr_link_title": ("电子大屏链接", "The big screen's link"),
    "scr_link_intro": ("在驿站大屏的浏览器里打开这个链接，不用登录。大屏每分钟自动刷新，只显示今天各场地的安排，"
                       "不显示联系人姓名和电话。",
                       "Open this link in the browser of the station's wall screen; no sign-in is needed. The screen "
                       "refreshes itself every minute and shows only today's plan of each venue, no contact names or phones."),
    "scr_link_label": ("大屏链接", "Screen link"),
    "scr_link_made": ("{username} 于 {when} 生成", "Made by {username} on {when}"),
    "scr_open_screen": ("打开大屏", "Open the screen"),
    "scr_no_link": ("还没有大屏链接。", "There is no screen link yet."),
    "scr_make_link": ("生成大屏链接", "Make the screen link"),
    "scr_new_link": ("生成新链接，旧链接立即失效", "Make a new link; the old one stops at once"),
    "scr_new_link_hint": ("链接泄露或更换大屏时使用。生成后，请在大屏上打开新链接。",
                          "Use this when the link has leaked or the screen is replaced; then open the new link on the screen."),
    "scr_renewed": ("已生成大屏链接，以前的链接都已失效。", "The screen link is made; any earlier link no longer works."),
    "scr_posters_title": ("场地签到二维码", "Check-in QR codes of the venues"),
    "scr_posters_intro": ("打印后贴在各场地门口。预约了场地的组织联系人到场后用手机扫码签到。",
                          "Print each and put it at its venue's door. The contact of the organisation that booked the "
                          "venue scans it on arrival to check in."),
    "scr_poster_link": ("{name} 的二维码", "QR code for the {name}"),
    # the poster
    "scr_poster_title": ("扫码签到", "Scan to check in"),
    "scr_poster_who": ("预约了本场地的组织联系人：到场后用手机扫码，登录后按“签到”。",
                       "Contact of the organisation that booked this venue: on arrival, scan with your phone, sign in "
                       "and press “Check in”."),
    "scr_poster_when": ("预约开始前后可以签到，具体时间以手机上显示的为准。",
                        "Check-in opens shortly before the booking starts; your phone shows the exact times."),
    "scr_poster_address": ("不能扫码时，在手机浏览器输入：", "If you cannot scan, type this address:"),
    "scr_poster_print": ("用浏览器的“打印”打印本页（A4 纸），贴在场地门口。",
                         "Print this page (A4) with the browser's Print command and put it at the venue's door."),
    "scr_back_to_manage": ("返回电子大屏和场地二维码", "Back to the big screen and QR codes"),
    # the big screen
    "scr_board_title": ("今日场地安排", "Today at the station"),
    "scr_updated": ("{time} 更新", "Updated at {time}"),
    "scr_stale": ("暂时无法更新，显示的是 {time} 的安排", "Cannot update just now; this is the plan as of {time}"),
    "scr_unavailable": ("暂时无法取得今天的安排，大屏会自动再试。", "Today's plan is not available just now; the screen will try again by itself."),
    "scr_nothing_today": ("今天已没有场地预约。", "No more venue bookings today."),
    "scr_under_way": ("进行中", "Under way"),
    "scr_later": ("未开始", "Later"),
    "scr_station_event": ("驿站活动", "Station event"),
    "scr_free_venues": ("今天其余时间空闲的场地", "Free for the rest of today"),
    "scr_finished": ("今天已结束 {n} 项", "{n} finished earlier today"),
    # the door
    "scr_check_in_title": ("场地签到", "Check in at the venue"),
    "scr_check_in_button": ("签到", "Check in"),
    "scr_open_now": ("现在可以签到。", "You can check in now."),
    "scr_too_early": ("还没到签到时间。签到时间：{day} {opens}–{closes}。", "It is too early. Check-in is open {day} {opens}–{closes}."),
    "scr_closed": ("签到时间（{opens}–{closes}）已过。如有疑问，请找驿站工作人员。",
                   "Check-in ({opens}–{closes}) has closed. Please ask the station staff."),
    "scr_checked_in": ("已签到（{time}）。", "Checked in at {time}."),
    "scr_done": ("签到成功，欢迎！", "You are checked in. Welcome!"),
    "scr_no_booking": ("您的组织现在在这个场地没有预约。", "Your organisation has no booking at this venue now."),
    "scr_no_booking_hint": ("预约的时间和场地可以在“我的预约”里查看。", "See your bookings' times and venues in “My bookings”."),
    "scr_refused": ("这个二维码供预约了场地的组织联系人签到。", "This QR code is for the contact of the organisation that booked the venue."),
    "scr_refused_hint": ("请用驿站登记的组织联系人手机号登录。", "Sign in with the mobile number the station has on file for the organisation's contact."),
    "scr_api_said": ("签到没有成功：{message}", "Check-in did not succeed: {message}"),
}
