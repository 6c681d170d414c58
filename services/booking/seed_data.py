"""Seed data for the booking service: the station's own venues and demo organisations.

This is the real station's data, drawn from the article in ``station-article.txt``
(shared beside SPEC.md): 华垦社区党群服务驿站, Haiken Subdistrict, Longhua
District, Haikou, opened 21 June 2022. The article gives only totals: 92 m²
indoors over five functional areas, and a 2,833 m² culture square split into six
zones. The per-venue areas below are our own estimated split of those published
totals (they add up to exactly 92 and 2,833); capacities and opening hours are
realistic choices, not figures from the article.

Pure data, standard library only. Times are local ``Asia/Shanghai`` wall-clock
times written as "HH:MM" strings. Weekday keys are strings "0" (Monday) to
"6" (Sunday): the station is open seven days a week (“服务不停歇”).
"""

# ---------------------------------------------------------------------------
# Opening hours
# ---------------------------------------------------------------------------

_DAYS = ("0", "1", "2", "3", "4", "5", "6")


def _every_day(*intervals):
    """Same intervals on all seven days (a fresh list per day, safe to mutate)."""
    return {day: [list(interval) for interval in intervals] for day in _DAYS}


# Indoor rooms: morning to evening, covering the 16:30–19:00 after-school class
# and evening meetings.
_INDOOR_HOURS = ("08:30", "21:00")
# Service counter: staffed hours with the usual Hainan midday break.
_COUNTER_HOURS = (("08:30", "12:00"), ("14:30", "17:30"))
# Outdoor culture square: early-morning exercise to evening activities.
_SQUARE_HOURS = ("06:00", "22:00")

# ---------------------------------------------------------------------------
# Venues (codes are the stable ones from SPEC §1; do not change them)
# ---------------------------------------------------------------------------

VENUES = [
    # ----- Indoor, 92 m² in total -----
    {
        "code": "service-counter",
        "name_zh": "便民代办柜台",
        "name_en": "Service counter",
        "location": "indoor",
        "area_m2": 8,
        "capacity": 6,
        "bookable": False,
        "opening_hours": _every_day(*_COUNTER_HOURS),
        "min_minutes": 30,
        "max_minutes": 240,
        "description_zh": "为居民代办党组织关系转接、基本医保、养老保险、高龄老人补贴等事项并提供咨询，周一到周日服务不停歇。",
        "description_en": "Errands done for residents—transfer of Party membership, basic medical insurance, pension insurance, subsidies for the very old—and consultation, Monday to Sunday.",
    },
    {
        "code": "party-activity-area",
        "name_zh": "党建活动区",
        "name_en": "Party activity area",
        "location": "indoor",
        "area_m2": 24,
        "capacity": 25,
        "bookable": True,
        "opening_hours": _every_day(_INDOOR_HOURS),
        "min_minutes": 30,
        "max_minutes": 240,
        "description_zh": "配有沙发和桌椅，用于党员学习教育，每月在此举办一次党员政治生日会。",
        "description_en": "Furnished with sofas, tables and chairs for Party study sessions; the monthly political-birthday gathering for Party members is held here.",
    },
    {
        "code": "meeting-room",
        "name_zh": "党群会议室",
        "name_en": "Party–citizen meeting room",
        "location": "indoor",
        "area_m2": 22,
        "capacity": 20,
        "bookable": True,
        "opening_hours": _every_day(_INDOOR_HOURS),
        "min_minutes": 30,
        "max_minutes": 240,
        "description_zh": "配有会议桌椅、投影设备和电子大屏，供党组织、社会团体和共建单位开会使用。",
        "description_en": "Meeting tables, a projector and a large electronic screen, for Party organisations, social groups and partner units to hold meetings.",
    },
    {
        "code": "reading-area",
        "name_zh": "图书阅览区",
        "name_en": "Reading area",
        "location": "indoor",
        "area_m2": 20,
        "capacity": 16,
        "bookable": True,
        "opening_hours": _every_day(_INDOOR_HOURS),
        "min_minutes": 30,
        "max_minutes": 240,
        "description_zh": "书架上有约3000册图书，居民可在此看书下棋，每周末举办红色经典故事会。",
        "description_en": "Shelves of about 3,000 books where residents read and play chess; red-classics story sessions are held every weekend.",
    },
    {
        "code": "after-school-classroom",
        "name_zh": "四点半课堂",
        "name_en": "After-school classroom",
        "location": "indoor",
        "area_m2": 18,
        "capacity": 20,
        "bookable": True,
        "opening_hours": _every_day(_INDOOR_HOURS),
        "min_minutes": 30,
        "max_minutes": 240,
        "description_zh": "每天16:30至19:00有志愿者为孩子们辅导作业、一起看红色电影，其余时段可预约使用。",
        "description_en": "From 16:30 to 19:00 volunteer tutors help children with homework and watch red films with them; bookable outside those class hours.",
    },
    # ----- Outdoor culture square, 2,833 m² in total, six zones -----
    {
        "code": "banyan-classroom",
        "name_zh": "大榕树党建课堂",
        "name_en": "Banyan-tree Party classroom",
        "location": "square",
        "area_m2": 300,
        "capacity": 60,
        "bookable": True,
        "opening_hours": _every_day(_SQUARE_HOURS),
        "min_minutes": 60,
        "max_minutes": 480,
        "description_zh": "在大榕树的树荫下开设的露天党课课堂，适合党员学习和宣讲活动。",
        "description_en": "An open-air classroom in the shade of the big banyan tree, where Party classes and talks are held.",
    },
    {
        "code": "culture-exhibition",
        "name_zh": "党群文化展示区",
        "name_en": "Party–citizen culture exhibition area",
        "location": "square",
        "area_m2": 225,
        "capacity": 80,
        "bookable": True,
        "opening_hours": _every_day(_SQUARE_HOURS),
        "min_minutes": 60,
        "max_minutes": 480,
        "description_zh": "结合农垦历史元素布置的展示区，展示党建与社区文化。",
        "description_en": "Exhibition panels on Party building and community culture, set among elements of the state-farm (Nongken) history of the estate.",
    },
    {
        "code": "fitness-area",
        "name_zh": "运动健身区",
        "name_en": "Fitness area",
        "location": "square",
        "area_m2": 400,
        "capacity": 40,
        "bookable": True,
        "opening_hours": _every_day(_SQUARE_HOURS),
        "min_minutes": 60,
        "max_minutes": 480,
        "description_zh": "配有户外健身器材，供垦家大院及周边小区居民晨练和锻炼。",
        "description_en": "Outdoor fitness equipment for morning exercise by residents of Kenjia Courtyard and the neighbouring estates.",
    },
    {
        "code": "basketball-court",
        "name_zh": "篮球场",
        "name_en": "Basketball court",
        "location": "square",
        "area_m2": 608,
        "capacity": 30,
        "bookable": True,
        "opening_hours": _every_day(_SQUARE_HOURS),
        "min_minutes": 60,
        "max_minutes": 480,
        "description_zh": "标准篮球场，常用于与共建单位开展的文体活动和友谊赛。",
        "description_en": "A full-size basketball court, often used for sports events and friendly matches with partner units.",
    },
    {
        "code": "gateball-court",
        "name_zh": "门球场",
        "name_en": "Gateball court",
        "location": "square",
        "area_m2": 500,
        "capacity": 20,
        "bookable": True,
        "opening_hours": _every_day(_SQUARE_HOURS),
        "min_minutes": 60,
        "max_minutes": 480,
        "description_zh": "门球场深受小区老年居民喜爱，是退休党员和老人日常活动的去处。",
        "description_en": "A gateball court popular with the estate's elderly residents and retired Party members.",
    },
    {
        "code": "culture-square",
        "name_zh": "文化广场",
        "name_en": "Culture square",
        "location": "square",
        "area_m2": 800,
        "capacity": 300,
        "bookable": True,
        "opening_hours": _every_day(_SQUARE_HOURS),
        "min_minutes": 60,
        "max_minutes": 480,
        "description_zh": "开阔的广场空间，可举办文艺演出、集体活动和党建联盟的文体活动。",
        "description_en": "The open square itself, for performances, community gatherings and the Party-building alliance's cultural and sports events.",
    },
]

# ---------------------------------------------------------------------------
# Slots the station holds for itself (not bookable by others)
# ---------------------------------------------------------------------------

STATION_HELD = [
    {
        "venue_code": "after-school-classroom",
        "weekdays": [0, 1, 2, 3, 4],
        "start": "16:30",
        "end": "19:00",
        "title_zh": "四点半课堂",
        "title_en": "After-school class",
        "school_days_only": True,
    },
]

# ---------------------------------------------------------------------------
# Demo organisations (names from the article; contacts are invented,
# phone numbers are fictional 1380000xxxx, emails are example.org)
# ---------------------------------------------------------------------------

DEMO_ORGANIZATIONS = [
    {
        "name": "华垦社区党支部",
        "name_en": "Huaken Community Party Branch",
        "kind": "party_org",
        "contact": {
            "name": "林海燕",
            "phone": "13800000001",
            "email": "huaken-branch@example.org",
        },
    },
    {
        "name": "海南农垦机关物业党支部",
        "name_en": "Hainan State Farms Authority Property Services Party Branch",
        "kind": "party_org",
        "contact": {
            "name": "符志强",
            "phone": "13800000002",
            "email": "nongken-property@example.org",
        },
    },
    {
        "name": "省农垦机关幼儿园党支部",
        "name_en": "Provincial State Farms Authority Kindergarten Party Branch",
        "kind": "party_org",
        "contact": {
            "name": "邢丽娟",
            "phone": "13800000003",
            "email": "nongken-kindergarten@example.org",
        },
    },
    {
        "name": "垦家大院门球队",
        "name_en": "Kenjia Courtyard Gateball Team",
        "kind": "social_group",
        "contact": {
            "name": "云德明",
            "phone": "13800000004",
            "email": "kenjia-gateball@example.org",
        },
    },
]
