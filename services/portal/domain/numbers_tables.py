"""The station's numbers as tables (issue 13): one per table on the page, the same one written to
CSV and Excel, so the page and the files never disagree. A text cell is (zh, en); the page shows
the reader's language, a file both."""

from dataclasses import dataclass, field

# A channel's words in the catalogue; another channel (a future one) shows its code.
CHANNEL_WORDS = {"sms": "num_channel_sms", "email": "num_channel_email"}
SCORES_HIGH_FIRST = (5, 4, 3, 2, 1)


@dataclass
class Column:
    heading: str  # message id
    text: bool = False  # a (zh, en) cell, else a number


@dataclass
class Table:
    name: str  # as in the file's address: /admin/numbers/<name>.csv
    title: str  # message id
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    totals: list = field(default_factory=list)  # the last row, under the others: (zh, en) label first


def venue_table(stats: dict) -> Table:
    keys = ("held", "hours", "no_shows", "late_cancellations", "cancelled", "rejected", "requested")
    headings = ("num_col_held", "num_col_hours", "num_col_no_shows", "num_col_late", "num_col_cancelled",
                "num_col_rejected", "num_col_requested")
    table = Table("venues", "num_venues_title", [Column("num_col_venue", text=True)] + [Column(h) for h in headings])
    table.rows = [[(v["name_zh"], v["name_en"])] + [v[k] for k in keys] for v in stats["venues"]]
    table.totals = [None] + [stats["totals"][k] for k in keys]
    return table


def errand_table(stats: dict) -> Table:
    keys = ("opened", "done", "overdue", "average_days_to_done")
    table = Table("errands", "num_errands_title", [Column("num_col_type", text=True), Column("num_col_opened"),
                                                   Column("num_col_done"), Column("num_col_overdue"),
                                                   Column("num_col_days")])
    table.rows = [[(e["name_zh"], e["name_en"])] + [e[k] for k in keys] for e in stats["errands"]]
    table.totals = [None] + [stats["totals"][k] for k in keys]
    return table


def follow_up_table(stats: dict, words) -> Table:
    """Scores 5 down to 1 with how many gave each; the total, then the average. `words(id, **params)`
    gives (zh, en) from the catalogue."""
    follow_up = stats["follow_up"]
    counts = {d["score"]: d["count"] for d in follow_up["distribution"]}
    table = Table("follow-up", "num_follow_up_title", [Column("num_col_score", text=True), Column("num_col_count")])
    table.rows = [[words("num_score", score=score), counts.get(score, 0)] for score in SCORES_HIGH_FIRST]
    table.rows.append([words("num_average_row"), follow_up["average"]])
    table.totals = [None, follow_up["count"]]
    return table


def message_table(stats: dict, words) -> Table:
    keys = ("sent", "delivered", "failed", "suppressed", "waiting", "total")
    table = Table("messages", "num_messages_title", [Column("num_col_channel", text=True)] +
                  [Column(f"num_col_{k}") for k in keys])
    for channel in stats["channels"]:
        name = words(CHANNEL_WORDS[channel["channel"]]) if channel["channel"] in CHANNEL_WORDS else \
            (channel["channel"], channel["channel"])
        table.rows.append([name] + [channel[k] for k in keys])
    table.totals = [None] + [sum(c[k] for c in stats["channels"]) for k in keys]
    return table


# Each table, the service whose statistics it shows, and how it is made from them.
TABLES = {
    "venues": ("booking", lambda stats, words: venue_table(stats)),
    "errands": ("desk", lambda stats, words: errand_table(stats)),
    "follow-up": ("desk", follow_up_table),
    "messages": ("notify", message_table),
}
