"""Words generated flows are made of: tags, campaigns, forms, field tests, weights."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

TOPICS = ["welcome", "nurture", "upsell", "winback", "webinar", "onboarding", "dunning", "trial"]
TAGS = ["customer", "prospect", "vip", "newsletter", "webinar-attendee", "churn-risk", "trial",
        "partner", "staff-account", "beta-tester", "lead-hot", "lead-cold"]  # fmt: skip
CAMPAIGNS = ["welcome-series", "spring-sale", "product-news", "re-engagement", "upsell-q3",
             "black-friday", "customer-tips"]  # fmt: skip
FORMS = ["optin-page", "contact-us", "demo-request", "pricing-form", "ebook-download"]
COURSES = ["growth-basics", "email-mastery", "sales-101"]
OFFERS = ["offer-1", "offer-2", "starter-plan", "pro-plan", "annual-plan"]
COUNTRIES = ["NO", "SE", "DK", "FI", "DE", "NL", "GB"]
TIMEZONES = ["Europe/Oslo", "Europe/Stockholm", "Europe/Copenhagen", "Europe/Helsinki",
             "Europe/Berlin", "UTC", "America/New_York"]  # fmt: skip
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DURATIONS = ["1h", "90m", "1d", "2d", "3d", "5d", "1w", "1d12h", "P3D", "PT2H30M"]
ACTION_WEIGHTS = {
    "send_email": 30, "send_sms": 5, "tag": 12, "campaign": 8, "update_contact": 6,
    "create_activity": 4, "notify": 4, "create_sale": 2, "create_appointment": 2,
    "create_ticket": 2, "selection": 2, "project": 1, "course": 2, "start_flow": 2, "webhook": 3,
}  # fmt: skip
NOTES = [
    "call within a day",
    "high intent, check the pricing page visits",
    "no reply so far",
    "ask about {{ company.name | default('their company') }}",
]
WEIGHTS = [[50, 50], [70, 30], [80, 20], [40, 30, 30], [34, 33, 33], [60, 20, 20]]

FIELD_TESTS: list[tuple[str, str, Callable[[random.Random], Any]]] = [
    ("contact.country", "in", lambda r: sorted(r.sample(COUNTRIES, r.randint(2, 4)))),
    ("contact.country", "not_in", lambda r: sorted(r.sample(COUNTRIES, 2))),
    ("contact.country", "eq", lambda r: r.choice(COUNTRIES)),
    ("contact.category", "ne", lambda r: "competitor"),
    ("contact.score", "gt", lambda r: r.randint(10, 90)),
    ("contact.score", "gte", lambda r: r.randint(10, 90)),
    ("contact.orders", "lt", lambda r: r.randint(1, 5)),
    ("contact.lifetime_value", "lte", lambda r: float(r.choice([99, 499, 1999]))),
    ("contact.email", "ends_with", lambda r: "@acme.example"),
    ("contact.email", "contains", lambda r: "gmail"),
    ("contact.interests", "not_contains", lambda r: "crypto"),
    ("contact.phone", "starts_with", lambda r: "+47"),
    ("contact.phone", "matches", lambda r: r"^\+4[5-7][0-9]{8}$"),
    ("contact.company", "exists", lambda r: True),
    ("contact.phone", "is_empty", lambda r: False),
    ("contact.last_purchase_at", "before", lambda r: "-90d"),
    ("contact.created_at", "after", lambda r: "2026-01-01"),
    ("contact.last_login_at", "within_last", lambda r: r.choice(["7d", "14d", "30d"])),
    ("trigger.offer", "eq", lambda r: r.choice(OFFERS)),
    ("company.size", "gte", lambda r: r.choice([10, 50, 250])),
    ("participant.step_count", "lt", lambda r: 50),
    ("contact.unsubscribed", "eq", lambda r: False),
]
