"""Deterministic demo data: the recordings' records plus thousands of realistic ones.

``seed()`` is what ``manage.py sandbox_seed`` runs; other apps' set-up code may call it.
The same arguments give the same ids and values on every machine.
"""

import random
from datetime import UTC, date, datetime, timedelta

from django.db import connections, router, transaction

from .models import CustomView, MassUpdateJob, Record, SandboxUser
from .operations import derive
from .schema import ACCOUNTS, CONTACTS, DEALS, LEADS, Module, stable_id

RANDOM_SEED = 20210507
PATRICIA = ("738964000000291009", "patricia patricia", "patricia@zylker.example")
USERS = [
    PATRICIA,
    ("738964000000291017", "Maya Rao", "maya.rao@zylker.example"),
    ("738964000000291025", "Leo Park", "leo.park@zylker.example"),
    ("738964000000291033", "Amara Okafor", "amara.okafor@zylker.example"),
    ("738964000000291041", "Jonas Weber", "jonas.weber@zylker.example"),
    ("738964000000291059", "Sofia Marquez", "sofia.marquez@zylker.example"),
]

# The records of the recordings, with the state each response needs.
SUCCESS_LEADS = [
    ("738964000002131264", "2021-05-07T12:17:47+00:00"),
    ("738964000002131001", "2021-05-07T06:23:10+00:00"),
    ("738964000002130131", "2021-05-07T06:38:15+00:00"),
]
NOT_APPROVED_LEAD = "1306462000000496025"
LOCKED_LEAD = "475243000003269880"
# The ids of the Multi-Status recording must stay unknown; no seeded id has 17 digits.
MISSING_IDS = ["73896400000213126", "73896400000213100", "73896400000213013"]


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "Aisha Ben Carla Daniel Elena Farid Grace Hiro Ines Jamal Kira Lucas Mei Nadia Omar "
    "Priya Quentin Rosa Samuel Tara Umar Vera Wen Xavier Yara Zoe Adrian Bianca Chen "
    "Dmitri Esme Felix Greta Hugo Ivy Jonas Kofi Lena Marco Nora Oscar Paula Rafael "
    "Sana Theo Uma Viktor Willa Yusuf Zara"
)
LAST_NAMES = _words(
    "Adams Bauer Castillo Dubois Eriksen Fischer Garcia Hansen Ito Jensen Kowalski "
    "Larsen Moreau Novak Okafor Patel Quinn Rossi Schmidt Tanaka Umarov Varga Walsh Xu "
    "Yilmaz Zimmermann Almeida Brennan Chowdhury Delgado Ekwueme Fontaine Gupta Haddad "
    "Ivanova Jovanovic Kim Lindqvist Mendes Nakamura Oliveira Petrov Rahman Santos "
    "Thompson Underwood Vasquez Watanabe Young Zhang"
)
COMPANY_WORDS = _words(
    "Acme Globex Initech Umbrella Stark Wayne Wonka Cyberdyne Soylent Hooli Vandelay "
    "Massive Dynamic Aperture Tyrell Gringotts Oscorp Nakatomi Zorin Monarch Ollivander "
    "Blue Sun Northwind Contoso Fabrikam Tailspin Adventure Litware Proseware Lucerne "
    "Wingtip Alpine Coho Fourth Coffee Margie Trey Humongous Southridge Woodgrove"
)
COMPANY_KINDS = (
    "Systems",
    "Labs",
    "Logistics",
    "Foods",
    "Analytics",
    "Energy",
    "Health",
    "Robotics",
    "Media",
    "Capital",
    "Manufacturing",
    "Software",
)
COMPANY_SUFFIXES = ("Inc.", "Ltd", "GmbH", "LLC", "S.A.", "Pty Ltd", "AG", "Corp.")
PLACES = [
    ("Chicago", "Illinois", "United States", "606"),
    ("Austin", "Texas", "United States", "787"),
    ("Seattle", "Washington", "United States", "981"),
    ("Toronto", "Ontario", "Canada", "M5V"),
    ("London", "England", "United Kingdom", "EC1"),
    ("Manchester", "England", "United Kingdom", "M1 "),
    ("Berlin", "Berlin", "Germany", "101"),
    ("Munich", "Bavaria", "Germany", "803"),
    ("Paris", "Île-de-France", "France", "750"),
    ("Madrid", "Madrid", "Spain", "280"),
    ("Chennai", "Tamil Nadu", "India", "600"),
    ("Bengaluru", "Karnataka", "India", "560"),
    ("Sydney", "New South Wales", "Australia", "200"),
    ("Tokyo", "Tokyo", "Japan", "100"),
    ("São Paulo", "São Paulo", "Brazil", "010"),
    ("Lagos", "Lagos", "Nigeria", "100"),
]
STREETS = ("Main St", "Oak Avenue", "Station Road", "Harbour Way", "Market Street", "Park Lane")
TITLES = (
    "CEO",
    "CTO",
    "Head of Sales",
    "Sales Manager",
    "Marketing Director",
    "Procurement Lead",
    "IT Manager",
    "Operations Manager",
    "Account Executive",
    "Office Manager",
)
DEPARTMENTS = ("Sales", "Marketing", "IT", "Finance", "Operations", "Procurement", "Support")
NEXT_STEPS = (
    "Send proposal",
    "Schedule demo",
    "Negotiate terms",
    "Legal review",
    "Follow up call",
    "Security questionnaire",
)


class _Maker:
    """Draws every value from one seeded generator, so runs are identical."""

    def __init__(self, users: list[SandboxUser]) -> None:
        self.rng = random.Random(RANDOM_SEED)
        self.users = users
        self.start = datetime(2020, 1, 1, tzinfo=UTC)

    def pick(self, values):
        return self.rng.choice(values)

    def used(self, module: Module, field: str) -> str | None:
        values = [v for v in module.field(field).used_values if v != "-None-"]
        return self.rng.choice(values) if self.rng.random() > 0.08 else None

    def several(self, module: Module, field: str) -> list[str]:
        values = module.field(field).used_values
        return self.rng.sample(values, self.rng.randint(0, min(3, len(values))))

    def moment(self) -> datetime:
        return self.start + timedelta(seconds=self.rng.randint(0, 5 * 365 * 86400))

    def later(self, after: datetime) -> datetime:
        return after + timedelta(seconds=self.rng.randint(0, 200 * 86400))

    def day(self) -> str:
        return (date(2024, 1, 1) + timedelta(days=self.rng.randint(0, 900))).isoformat()

    def company(self) -> str:
        return (
            f"{self.pick(COMPANY_WORDS)} {self.pick(COMPANY_KINDS)} {self.pick(COMPANY_SUFFIXES)}"
        )

    def phone(self) -> str:
        return f"+1 {self.rng.randint(200, 989)}-555-{self.rng.randint(0, 9999):04d}"

    def owner(self) -> dict:
        user = self.pick(self.users)
        return {"name": user.name, "id": user.id, "email": user.email}

    def person(self) -> tuple[str, str]:
        return self.pick(FIRST_NAMES), self.pick(LAST_NAMES)

    def email(self, first: str, last: str, company: str) -> str:
        domain = company.split()[0].lower()
        return f"{first.lower()}.{last.lower()}@{domain}.example"


def _record_id(module: Module, n: int) -> str:
    return f"41508680000{module.record_code:02d}{n:06d}"


def _record(maker: _Maker, module: Module, record_id: str, data: dict, **state) -> Record:
    created = state.pop("created", None) or maker.moment()
    creator = state.pop("creator", None) or maker.pick(maker.users)
    modifier = state.pop("modifier", None) or maker.pick(maker.users)
    return Record(
        id=record_id,
        module=module.api_name,
        data=derive(module, data),
        created_time=created,
        modified_time=state.pop("modified", None) or maker.later(created),
        created_by=creator,
        modified_by=modifier,
        **state,
    )


def _account(maker: _Maker, n: int) -> Record:
    m, rng = ACCOUNTS, maker.rng
    name = maker.company()
    city, _state, country, _zip = maker.pick(PLACES)
    data = {
        "Owner": maker.owner(),
        "Account_Name": name,
        "Account_Number": rng.randint(10**9, 10**12),
        "Account_Type": maker.used(m, "Account_Type"),
        "Industry": maker.used(m, "Industry"),
        "Ownership": maker.used(m, "Ownership"),
        "Rating": maker.used(m, "Rating"),
        "Phone": maker.phone(),
        "Website": f"https://www.{name.split()[0].lower()}-{n}.example",
        "Employees": rng.randint(5, 50000),
        "Annual_Revenue": round(rng.uniform(1e5, 5e8), 2),
        "Billing_City": city,
        "Billing_Country": country,
        "Regions": maker.several(m, "Regions"),
        "Health_Score": round(rng.uniform(0, 10), 2),
        "Discount_Rate": rng.choice([0, 5, 10, 12.5, 15, 20]),
        "Contract_Renewal": maker.day(),
        "Last_Review_At": maker.moment().isoformat(timespec="seconds"),
        "Is_Partner": rng.random() < 0.15,
        "Billing_Email": f"billing@{name.split()[0].lower()}-{n}.example",
        "Parent_Account": None,
        "Description": f"{name} buys through the {country} office.",
    }
    return _record(maker, m, _record_id(m, n), data)


def _contact(maker: _Maker, n: int, accounts: list[Record]) -> Record:
    m, rng = CONTACTS, maker.rng
    first, last = maker.person()
    account = maker.pick(accounts)
    city, _state, country, _zip = maker.pick(PLACES)
    data = {
        "Owner": maker.owner(),
        "Salutation": maker.used(m, "Salutation"),
        "First_Name": first,
        "Last_Name": last,
        "Account_Name": account.as_ref(),
        "Title": maker.pick(TITLES),
        "Department": maker.pick(DEPARTMENTS),
        "Email": maker.email(first, last, account.data["Account_Name"]),
        "Phone": maker.phone(),
        "Mobile": maker.phone(),
        "Lead_Source": maker.used(m, "Lead_Source"),
        "Contact_Type": maker.used(m, "Contact_Type"),
        "Mailing_City": city,
        "Mailing_Country": country,
        "Date_of_Birth": (date(1960, 1, 1) + timedelta(days=rng.randint(0, 14000))).isoformat(),
        "Email_Opt_Out": rng.random() < 0.1,
        "Interests": maker.several(m, "Interests"),
        "Loyalty_Points": rng.randint(0, 5000),
        "Lifetime_Value": round(rng.uniform(0, 250000), 2),
        "Satisfaction": rng.randint(40, 100),
        "Engagement_Score": round(rng.uniform(0, 1), 3),
        "External_Id": rng.randint(10**10, 10**14),
        "Last_Activity_At": maker.moment().isoformat(timespec="seconds"),
        "LinkedIn_Profile": f"https://www.linkedin.example/in/{first.lower()}-{last.lower()}-{n}",
        "Description": None,
    }
    return _record(maker, m, _record_id(m, n), data)


def _lead(maker: _Maker, n: int, record_id: str, contacts: list[Record], **state) -> Record:
    m, rng = LEADS, maker.rng
    first, last = maker.person()
    company = maker.company()
    city, region, country, zip_prefix = maker.pick(PLACES)
    data = {
        "Owner": maker.owner(),
        "Lead_No": f"LEAD-{n:06d}",
        "Salutation": maker.used(m, "Salutation"),
        "First_Name": first,
        "Last_Name": last,
        "Company": company,
        "Designation": maker.pick(TITLES),
        "Email": maker.email(first, last, company),
        "Secondary_Email": None,
        "Phone": maker.phone(),
        "Mobile": maker.phone(),
        "Website": f"https://www.{company.split()[0].lower()}.example",
        "Lead_Source": maker.used(m, "Lead_Source"),
        "Lead_Status": maker.used(m, "Lead_Status"),
        "Industry": maker.used(m, "Industry"),
        "Rating": maker.used(m, "Rating"),
        "No_of_Employees": rng.choice([5, 12, 25, 50, 120, 250, 500, 1000, 2500, 10000]),
        "Annual_Revenue": round(rng.uniform(5e4, 2e8), 2),
        "Email_Opt_Out": rng.random() < 0.08,
        "Skype_ID": f"{first.lower()}.{last.lower()}{n}",
        "Twitter": f"@{first.lower()}{last.lower()[:4]}",
        "Street": f"{rng.randint(1, 400)} {maker.pick(STREETS)}",
        "City": city,
        "State": region,
        "Zip_Code": f"{zip_prefix}{rng.randint(10, 99)}",
        "Country": country,
        "Description": f"Met at a {maker.pick(('webinar', 'trade show', 'meetup', 'demo'))}.",
        "Product_Interest": maker.several(m, "Product_Interest"),
        "Lead_Score": round(rng.uniform(0, 100), 2),
        "Conversion_Chance": rng.randint(0, 100),
        "DUNS_Number": rng.randint(10**8, 10**9 - 1),
        "Next_Follow_Up": maker.day(),
        "Last_Contacted_At": maker.moment().isoformat(timespec="seconds"),
        "Referred_By": maker.pick(contacts).as_ref() if rng.random() < 0.1 else None,
    }
    return _record(maker, m, record_id, data, **state)


def _deal(maker: _Maker, n: int, accounts: list[Record], contacts: list[Record]) -> Record:
    m, rng = DEALS, maker.rng
    account = maker.pick(accounts)
    stage = maker.pick(m.field("Stage").used_values)
    data = {
        "Owner": maker.owner(),
        "Deal_Name": f"{account.data['Account_Name'].split()[0]} – "
        f"{maker.pick(('CRM', 'Analytics', 'Desk', 'Books'))} "
        f"{maker.pick(('rollout', 'renewal', 'expansion', 'pilot'))}",
        "Account_Name": account.as_ref(),
        "Contact_Name": maker.pick(contacts).as_ref(),
        "Stage": stage,
        "Probability": {"Closed Won": 100, "Closed Lost": 0, "Closed Lost to Competition": 0}.get(
            stage, rng.choice([10, 20, 40, 60, 75, 90])
        ),
        "Type": maker.used(m, "Type"),
        "Amount": round(rng.uniform(1000, 500000), 2),
        "Closing_Date": maker.day(),
        "Lead_Source": maker.used(m, "Lead_Source"),
        "Next_Step": maker.pick(NEXT_STEPS),
        "Products_Interested": maker.several(m, "Products_Interested"),
        "Seats": rng.randint(1, 20000),
        "Weighted_Score": round(rng.uniform(0, 1), 3),
        "Discount": rng.choice([0, 5, 10, 15]),
        "Last_Stage_Change": maker.moment().isoformat(timespec="seconds"),
        "Is_Renewal": rng.random() < 0.3,
        "Contract_URL": f"https://contracts.zylker.example/{n}",
        "Sales_Phone": maker.phone(),
        "Next_Step_Note": None,
        "Notification_Email": "deals@zylker.example",
        "Description": None,
    }
    return _record(maker, m, _record_id(m, n), data)


def _not_converted() -> dict:
    return {"comparator": "equal", "field": {"api_name": "$converted"}, "value": False}


def _where(field: str, comparator: str, value) -> dict:
    return {"comparator": comparator, "field": {"api_name": field}, "value": value}


def _views(patricia: SandboxUser) -> list[CustomView]:
    specs: list[tuple[str, str, str | None, dict | None]] = [
        ("Leads", "All Leads", "ALLVIEWS", _not_converted()),
        ("Leads", "Converted Leads", "CONVERTEDVIEWS", _where("$converted", "equal", True)),
        (
            "Leads",
            "Hot leads",
            None,
            {
                "group_operator": "and",
                "group": [_where("Rating", "equal", "Hot"), _not_converted()],
            },
        ),
        (
            "Leads",
            "Contacted leads",
            None,
            {
                "group_operator": "and",
                "group": [_where("Lead_Status", "equal", "Contacted"), _not_converted()],
            },
        ),
        ("Leads", "Large companies", None, _where("No_of_Employees", "greater_equal", 1000)),
        ("Contacts", "All Contacts", "ALLVIEWS", None),
        ("Contacts", "Mailing opt-outs", None, _where("Email_Opt_Out", "equal", True)),
        ("Contacts", "Decision makers", None, _where("Contact_Type", "equal", "Decision Maker")),
        ("Accounts", "All Accounts", "ALLVIEWS", None),
        ("Accounts", "Partners", None, _where("Account_Type", "equal", "Partner")),
        ("Accounts", "Hot accounts", None, _where("Rating", "equal", "Hot")),
        ("Deals", "All Deals", "ALLVIEWS", None),
        ("Deals", "Negotiation", None, _where("Stage", "equal", "Negotiation/Review")),
        (
            "Deals",
            "Open deals",
            None,
            _where("Stage", "not_in", ["Closed Won", "Closed Lost", "Closed Lost to Competition"]),
        ),
    ]
    created = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)
    return [
        CustomView(
            id=stable_id("view", module, name),
            module=module,
            name=name,
            system_name=system_name,
            system_defined=system_name is not None,
            is_default=system_name == "ALLVIEWS",
            category="public_views" if system_name else "created_by_me",
            criteria=criteria,
            created_by=None if system_name else patricia,
            created_time=None if system_name else created,
        )
        for module, name, system_name, criteria in specs
    ]


def _users() -> list[SandboxUser]:
    users = []
    for user_id, name, email in USERS:
        user, _ = SandboxUser.objects.update_or_create(
            id=user_id, defaults={"name": name, "email": email}
        )
        users.append(user)
    return users


def counts() -> dict:
    result = {
        m.api_name: Record.objects.filter(module=m.api_name).count()
        for m in (LEADS, CONTACTS, ACCOUNTS, DEALS)
    }
    result["custom_views"] = CustomView.objects.count()
    result["users"] = SandboxUser.objects.count()
    return result


def seed(leads: int = 5000, reset: bool = False) -> dict:
    """Fill the sandbox with demo data; return the counts and whether anything was done.

    Without ``reset`` an already-seeded sandbox is left alone (``"seeded": False``).
    With it, records, views and jobs are wiped first; users and tokens survive, so a
    connected crmadmin keeps working. Contacts, Accounts and Deals scale with ``leads``
    (1,000 / 300 / 800 for the default 5,000).
    """
    leads = max(leads, 10)
    with transaction.atomic():
        if Record.objects.exists() and not reset:
            return {"seeded": False, **counts()}
        MassUpdateJob.objects.all().delete()
        CustomView.objects.all().delete()
        Record.objects.all().delete()
        users = _users()
        maker = _Maker(users)
        patricia = users[0]
        accounts = [_account(maker, n) for n in range(1, max(5, leads * 3 // 50) + 1)]
        contacts = [_contact(maker, n, accounts) for n in range(1, max(10, leads // 5) + 1)]
        lead_rows = _leads(maker, leads, contacts, patricia)
        deals = [
            _deal(maker, n, accounts, contacts) for n in range(1, max(10, leads * 4 // 25) + 1)
        ]
        for rows in (accounts, contacts, lead_rows, deals):
            Record.objects.bulk_create(rows, batch_size=500)
        CustomView.objects.bulk_create(_views(patricia))
    _analyze()
    return {"seeded": True, **counts()}


def _analyze() -> None:
    """Give the query planner statistics of the new records.

    Without them SQLite takes ``module = 'Leads'`` for a selective condition: a read or a
    write of 100 ids among 50,000 leads then walks the module's index through every lead
    (20 ms a call instead of 0.2).
    """
    db = connections[router.db_for_write(Record)]
    with db.cursor() as cursor:
        cursor.execute(f"ANALYZE {db.ops.quote_name(Record._meta.db_table)}")


def _leads(
    maker: _Maker, total: int, contacts: list[Record], patricia: SandboxUser
) -> list[Record]:
    rows = []
    for n, (record_id, created) in enumerate(SUCCESS_LEADS, start=1):
        moment = datetime.fromisoformat(created)
        lead = _lead(
            maker,
            n,
            record_id,
            contacts,
            created=moment,
            modified=moment,
            creator=patricia,
            modifier=patricia,
        )
        lead.data["Owner"] = {"name": patricia.name, "id": patricia.id, "email": patricia.email}
        rows.append(lead)
    rows.append(_lead(maker, 4, NOT_APPROVED_LEAD, contacts, approval_state=Record.PENDING))
    rows.append(_lead(maker, 5, LOCKED_LEAD, contacts, locked_action="zia_vision_processing"))
    for n in range(6, total + 1):
        roll = maker.rng.random()
        state: dict = {}
        if roll < 0.01:
            state["locked_action"] = "record_locking"
        elif roll < 0.02:
            state["approval_state"] = Record.PENDING
        elif roll < 0.04:
            state["converted"] = True
        rows.append(_lead(maker, n, _record_id(LEADS, n), contacts, **state))
    return rows
