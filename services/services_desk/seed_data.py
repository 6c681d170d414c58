"""The errands the station's counter does for residents (代办), from the article in
station-article.txt: Party membership transfer, basic medical insurance, pension
insurance, subsidies for the very old, and consultation. The documents and time
limits are the station's working assumptions; an admin changes them with
PUT /ticket-types/{code}."""

TICKET_TYPES = [
    {
        "code": "party_membership_transfer",
        "name_zh": "党组织关系转接", "name_en": "Transfer of Party membership",
        "documents_zh": ["本人身份证", "党组织关系介绍信", "党费缴纳证明"],
        "documents_en": ["ID card", "Letter of introduction from the former Party organisation",
                         "Record of Party dues paid"],
        "limit_working_days": 10,
    },
    {
        "code": "medical_insurance",
        "name_zh": "基本医保", "name_en": "Basic medical insurance",
        "documents_zh": ["本人身份证", "户口簿", "社保卡或一寸照片"],
        "documents_en": ["ID card", "Household register (hukou)", "Social security card, or a one-inch photo"],
        "limit_working_days": 5,
    },
    {
        "code": "pension_insurance",
        "name_zh": "养老保险", "name_en": "Pension insurance",
        "documents_zh": ["本人身份证", "户口簿", "社保卡或银行卡"],
        "documents_en": ["ID card", "Household register (hukou)", "Social security card or bank card"],
        "limit_working_days": 10,
    },
    {
        "code": "elderly_subsidy",
        "name_zh": "高龄老人补贴", "name_en": "Subsidy for the very old",
        "documents_zh": ["老人身份证", "户口簿", "老人本人银行卡或存折", "代办人身份证"],
        "documents_en": ["The elder's ID card", "Household register (hukou)",
                         "The elder's bank card or passbook", "ID card of the person acting for them"],
        "limit_working_days": 15,
    },
    {
        "code": "consultation",
        "name_zh": "咨询", "name_en": "Consultation",
        "documents_zh": [], "documents_en": [],
        "limit_working_days": 1,
    },
]
