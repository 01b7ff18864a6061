"""Modules and fields of the sandbox CRM, defined in code, and their metadata as the API shows it.

Field ids are derived from the module and field names, so they never change between
runs or machines, and adding a field does not renumber the others.
"""

import hashlib
from dataclasses import dataclass, field

ORG_PREFIX = "738964"

# data_type → json_type, as Zoho's field metadata reports them.
JSON_TYPES = {
    "text": "string",
    "textarea": "string",
    "email": "string",
    "phone": "string",
    "website": "string",
    "picklist": "string",
    "multiselectpicklist": "jsonarray",
    "integer": "integer",
    "bigint": "integer",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": "string",
    "datetime": "string",
    "boolean": "boolean",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
    "autonumber": "string",
    "formula": "string",
}

DEFAULT_LENGTHS = {
    "text": 255,
    "textarea": 32000,
    "email": 100,
    "phone": 30,
    "website": 255,
    "picklist": 120,
    "multiselectpicklist": 2000,
    "integer": 9,
    "bigint": 18,
    "double": 16,
    "currency": 16,
    "percent": 5,
    "date": 20,
    "datetime": 120,
    "boolean": 5,
    "lookup": 120,
    "ownerlookup": 120,
    "autonumber": 50,
    "formula": 100,
}


def stable_id(*parts: str) -> str:
    """An 18-digit id in the org's style, the same for the same parts on every machine."""
    digest = int(hashlib.sha256(".".join(parts).encode()).hexdigest(), 16)
    return f"{ORG_PREFIX}{10**11 + digest % (9 * 10**11):012d}"


@dataclass(frozen=True)
class Choice:
    actual: str
    display: str | None = None
    unused: bool = False


@dataclass(frozen=True)
class Field:
    api_name: str
    label: str
    data_type: str
    length: int | None = None
    mass_update: bool = True
    read_only: bool = False
    system_mandatory: bool = False
    custom_field: bool = False
    choices: tuple[Choice, ...] = ()
    lookup_module: str | None = None
    decimal_place: int | None = None

    @property
    def max_length(self) -> int:
        return self.length or DEFAULT_LENGTHS[self.data_type]

    @property
    def used_values(self) -> list[str]:
        return [c.actual for c in self.choices if not c.unused]


@dataclass(frozen=True)
class Module:
    api_name: str
    singular_label: str
    plural_label: str
    sequence_number: int
    module_name: str = ""
    api_supported: bool = True
    editable: bool = True
    convertable: bool = False
    generated_type: str = "default"
    visibility: int = 1
    record_code: int = 0
    fields: tuple[Field, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return stable_id("module", self.api_name)

    @property
    def max_mass_update_fields(self) -> int:
        return 3 if self.api_name == "Deals" else 1

    @property
    def has_records(self) -> bool:
        return self.api_supported and self.editable

    def field(self, api_name: str) -> Field | None:
        return self._fields_by_name().get(api_name)

    def _fields_by_name(self) -> dict[str, Field]:
        cache = _FIELD_INDEX.get(self.api_name)
        if cache is None:
            cache = _FIELD_INDEX[self.api_name] = {f.api_name: f for f in self.fields}
        return cache


_FIELD_INDEX: dict[str, dict[str, Field]] = {}


def choices(*values: str | Choice) -> tuple[Choice, ...]:
    return tuple(v if isinstance(v, Choice) else Choice(v) for v in values)


NONE = Choice("-None-")

SALUTATIONS = choices(NONE, "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.")
LEAD_SOURCES = choices(
    NONE,
    "Advertisement",
    "Cold Call",
    "Employee Referral",
    "External Referral",
    "Online Store",
    "Partner",
    "Public Relations",
    "Seminar Partner",
    "Trade Show",
    Choice("Web Download", "Web Form"),
    "Web Research",
    "Chat",
    Choice("Fax", unused=True),
)
INDUSTRIES = choices(
    NONE,
    Choice("ASP", "ASP (Application Service Provider)"),
    "Data/Telecom OEM",
    "ERP (Enterprise Resource Planning)",
    "Government/Military",
    "Large Enterprise",
    "Management ISV",
    "MSP (Management Service Provider)",
    "Network Equipment Enterprise",
    "Non-management ISV",
    "Optical Networking",
    "Service Provider",
    "Small/Medium Enterprise",
    "Storage Equipment",
    "Storage Service Provider",
    "Systems Integrator",
    "Wireless Industry",
    Choice("Retail", unused=True),
)
RATINGS = choices(NONE, "Hot", "Warm", "Cold", Choice("Market Failed", unused=True))
LEAD_STATUSES = choices(
    NONE,
    "Attempted to Contact",
    "Contact in Future",
    "Contacted",
    "Junk Lead",
    "Lost Lead",
    "Not Contacted",
    Choice("Pre-Qualified", "Pre Qualified"),
    "Not Qualified",
    Choice("Legacy Import", unused=True),
)
PRODUCTS = choices(
    "CRM", "Analytics", "Mail", "Desk", "Books", "Projects", Choice("Creator", "Creator Platform")
)
CONTACT_INTERESTS = choices(
    "Webinars", "Newsletters", "Product Updates", "Events", Choice("Beta", "Beta Programme")
)
ACCOUNT_TYPES = choices(
    NONE,
    "Analyst",
    "Competitor",
    "Customer",
    "Distributor",
    "Integrator",
    "Investor",
    "Partner",
    "Press",
    "Prospect",
    "Reseller",
    "Other",
    Choice("Vendor (old)", unused=True),
)
OWNERSHIPS = choices(NONE, "Other", "Private", "Public", "Subsidiary", "Government")
REGIONS = choices("North America", "EMEA", Choice("APAC", "Asia Pacific"), "LATAM", "Middle East")
STAGES = choices(
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    Choice("Id. Decision Makers", "Identify Decision Makers"),
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
    "Closed Lost to Competition",
    Choice("On Hold", unused=True),
)
DEAL_TYPES = choices(NONE, "Existing Business", "New Business")
CONTACT_TYPES = choices(NONE, "Customer", "Influencer", "Decision Maker", Choice("Champion"))


def _system_fields() -> tuple[Field, ...]:
    return (
        Field("Created_By", "Created By", "ownerlookup", mass_update=False, read_only=True),
        Field("Modified_By", "Modified By", "ownerlookup", mass_update=False, read_only=True),
        Field("Created_Time", "Created Time", "datetime", mass_update=False, read_only=True),
        Field("Modified_Time", "Modified Time", "datetime", mass_update=False, read_only=True),
    )


LEADS = Module(
    "Leads",
    "Lead",
    "Leads",
    sequence_number=2,
    convertable=True,
    record_code=11,
    fields=(
        Field("Owner", "Lead Owner", "ownerlookup", mass_update=False),
        Field("Lead_No", "Lead No", "autonumber", mass_update=False, read_only=True),
        Field("Salutation", "Salutation", "picklist", choices=SALUTATIONS),
        Field("First_Name", "First Name", "text", 40, mass_update=False),
        Field("Last_Name", "Last Name", "text", 80, mass_update=False, system_mandatory=True),
        Field("Full_Name", "Lead Name", "text", 120, mass_update=False, read_only=True),
        Field("Company", "Company", "text", 200),
        Field("Designation", "Title", "text", 100),
        Field("Email", "Email", "email", mass_update=False),
        Field("Secondary_Email", "Secondary Email", "email", mass_update=False),
        Field("Phone", "Phone", "phone", mass_update=False),
        Field("Mobile", "Mobile", "phone"),
        Field("Website", "Website", "website"),
        Field("Lead_Source", "Lead Source", "picklist", choices=LEAD_SOURCES),
        Field("Lead_Status", "Lead Status", "picklist", choices=LEAD_STATUSES),
        Field("Industry", "Industry", "picklist", choices=INDUSTRIES),
        Field("Rating", "Rating", "picklist", choices=RATINGS),
        Field("No_of_Employees", "No. of Employees", "integer", 9),
        Field("Annual_Revenue", "Annual Revenue", "currency", 16, decimal_place=2),
        Field("Email_Opt_Out", "Email Opt Out", "boolean"),
        Field("Skype_ID", "Skype ID", "text", 50),
        Field("Twitter", "Twitter", "text", 50, mass_update=False),
        Field("Street", "Street", "text", 250),
        Field("City", "City", "text", 100),
        Field("State", "State", "text", 100),
        Field("Zip_Code", "Zip Code", "text", 30),
        Field("Country", "Country", "text", 100),
        Field("Description", "Description", "textarea", mass_update=False),
        Field(
            "Product_Interest",
            "Product Interest",
            "multiselectpicklist",
            custom_field=True,
            choices=PRODUCTS,
        ),
        Field("Lead_Score", "Lead Score", "double", 16, custom_field=True, decimal_place=2),
        Field("Conversion_Chance", "Conversion Chance", "percent", custom_field=True),
        Field("DUNS_Number", "DUNS Number", "bigint", custom_field=True),
        Field("Next_Follow_Up", "Next Follow-Up", "date", custom_field=True),
        Field("Last_Contacted_At", "Last Contacted At", "datetime", custom_field=True),
        Field(
            "Referred_By",
            "Referred By",
            "lookup",
            mass_update=False,
            custom_field=True,
            lookup_module="Contacts",
        ),
        *_system_fields(),
    ),
)

CONTACTS = Module(
    "Contacts",
    "Contact",
    "Contacts",
    sequence_number=3,
    record_code=12,
    fields=(
        Field("Owner", "Contact Owner", "ownerlookup", mass_update=False),
        Field("Salutation", "Salutation", "picklist", choices=SALUTATIONS),
        Field("First_Name", "First Name", "text", 40, mass_update=False),
        Field("Last_Name", "Last Name", "text", 80, mass_update=False, system_mandatory=True),
        Field("Full_Name", "Contact Name", "text", 120, mass_update=False, read_only=True),
        Field(
            "Account_Name", "Account Name", "lookup", mass_update=False, lookup_module="Accounts"
        ),
        Field("Title", "Title", "text", 100),
        Field("Department", "Department", "text", 100),
        Field("Email", "Email", "email", mass_update=False),
        Field("Phone", "Phone", "phone", mass_update=False),
        Field("Mobile", "Mobile", "phone"),
        Field("Lead_Source", "Lead Source", "picklist", choices=LEAD_SOURCES),
        Field("Contact_Type", "Contact Type", "picklist", custom_field=True, choices=CONTACT_TYPES),
        Field("Mailing_City", "Mailing City", "text", 100),
        Field("Mailing_Country", "Mailing Country", "text", 100),
        Field("Date_of_Birth", "Date of Birth", "date"),
        Field("Email_Opt_Out", "Email Opt Out", "boolean"),
        Field(
            "Interests",
            "Interests",
            "multiselectpicklist",
            custom_field=True,
            choices=CONTACT_INTERESTS,
        ),
        Field("Loyalty_Points", "Loyalty Points", "integer", 9, custom_field=True),
        Field(
            "Lifetime_Value", "Lifetime Value", "currency", 16, custom_field=True, decimal_place=2
        ),
        Field("Satisfaction", "Satisfaction", "percent", custom_field=True),
        Field("Engagement_Score", "Engagement Score", "double", 16, custom_field=True),
        Field("External_Id", "External Id", "bigint", custom_field=True),
        Field("Last_Activity_At", "Last Activity At", "datetime", custom_field=True),
        Field("LinkedIn_Profile", "LinkedIn Profile", "website", custom_field=True),
        Field("Description", "Description", "textarea", mass_update=False),
        *_system_fields(),
    ),
)

ACCOUNTS = Module(
    "Accounts",
    "Account",
    "Accounts",
    sequence_number=4,
    record_code=13,
    fields=(
        Field("Owner", "Account Owner", "ownerlookup", mass_update=False),
        Field(
            "Account_Name", "Account Name", "text", 200, mass_update=False, system_mandatory=True
        ),
        Field("Account_Number", "Account Number", "bigint"),
        Field("Account_Type", "Account Type", "picklist", choices=ACCOUNT_TYPES),
        Field("Industry", "Industry", "picklist", choices=INDUSTRIES),
        Field("Ownership", "Ownership", "picklist", choices=OWNERSHIPS),
        Field("Rating", "Rating", "picklist", choices=RATINGS),
        Field("Phone", "Phone", "phone"),
        Field("Website", "Website", "website"),
        Field("Employees", "Employees", "integer", 9),
        Field("Annual_Revenue", "Annual Revenue", "currency", 16, decimal_place=2),
        Field("Billing_City", "Billing City", "text", 100),
        Field("Billing_Country", "Billing Country", "text", 100),
        Field("Regions", "Regions", "multiselectpicklist", custom_field=True, choices=REGIONS),
        Field("Health_Score", "Health Score", "double", 16, custom_field=True),
        Field("Discount_Rate", "Discount Rate", "percent", custom_field=True),
        Field("Contract_Renewal", "Contract Renewal", "date", custom_field=True),
        Field("Last_Review_At", "Last Review At", "datetime", custom_field=True),
        Field("Is_Partner", "Is Partner", "boolean", custom_field=True),
        Field("Billing_Email", "Billing Email", "email", mass_update=False, custom_field=True),
        Field(
            "Parent_Account",
            "Parent Account",
            "lookup",
            mass_update=False,
            lookup_module="Accounts",
        ),
        Field("Description", "Description", "textarea", mass_update=False),
        *_system_fields(),
    ),
)

DEALS = Module(
    "Deals",
    "Deal",
    "Deals",
    sequence_number=5,
    record_code=14,
    fields=(
        Field("Owner", "Deal Owner", "ownerlookup", mass_update=False),
        Field("Deal_Name", "Deal Name", "text", 120, mass_update=False, system_mandatory=True),
        Field(
            "Account_Name", "Account Name", "lookup", mass_update=False, lookup_module="Accounts"
        ),
        Field(
            "Contact_Name", "Contact Name", "lookup", mass_update=False, lookup_module="Contacts"
        ),
        Field("Stage", "Stage", "picklist", system_mandatory=True, choices=STAGES),
        Field("Probability", "Probability (%)", "integer", 3),
        Field("Type", "Type", "picklist", choices=DEAL_TYPES),
        Field("Amount", "Amount", "currency", 16, decimal_place=2),
        Field("Closing_Date", "Closing Date", "date"),
        Field("Lead_Source", "Lead Source", "picklist", choices=LEAD_SOURCES),
        Field("Next_Step", "Next Step", "text", 100),
        Field("Expected_Revenue", "Expected Revenue", "formula", mass_update=False, read_only=True),
        Field(
            "Products_Interested",
            "Products Interested",
            "multiselectpicklist",
            custom_field=True,
            choices=PRODUCTS,
        ),
        Field("Seats", "Seats", "bigint", custom_field=True),
        Field("Weighted_Score", "Weighted Score", "double", 16, custom_field=True),
        Field("Discount", "Discount", "percent", custom_field=True),
        Field("Last_Stage_Change", "Last Stage Change", "datetime", custom_field=True),
        Field("Is_Renewal", "Is Renewal", "boolean", custom_field=True),
        Field("Contract_URL", "Contract URL", "website", custom_field=True),
        Field("Sales_Phone", "Sales Phone", "phone", custom_field=True),
        Field("Next_Step_Note", "Next Step Note", "text", 30, custom_field=True),
        Field(
            "Notification_Email",
            "Notification Email",
            "email",
            mass_update=False,
            custom_field=True,
        ),
        Field("Description", "Description", "textarea", mass_update=False),
        *_system_fields(),
    ),
)

EVENTS = Module(
    "Events",
    "Meeting",
    "Meetings",
    sequence_number=8,
    module_name="Meetings",
    editable=False,
    fields=(
        Field("Event_Title", "Title", "text", 255, mass_update=False, system_mandatory=True),
        Field("Start_DateTime", "From", "datetime", mass_update=False),
        Field("End_DateTime", "To", "datetime", mass_update=False),
        Field("Owner", "Host", "ownerlookup", mass_update=False),
        *_system_fields(),
    ),
)

NOT_API = [
    Module("Home", "Home", "Home", sequence_number=1, api_supported=False, editable=False),
    Module("Reports", "Report", "Reports", sequence_number=20, api_supported=False, editable=False),
    Module(
        "Analytics",
        "Analytics",
        "Analytics",
        sequence_number=21,
        api_supported=False,
        editable=False,
    ),
    Module(
        "Documents",
        "Document",
        "Documents",
        sequence_number=22,
        api_supported=False,
        editable=False,
    ),
    Module("Feeds", "Feed", "Feeds", sequence_number=23, api_supported=False, editable=False),
]

MODULES: list[Module] = sorted(
    [LEADS, CONTACTS, ACCOUNTS, DEALS, EVENTS, *NOT_API], key=lambda m: m.sequence_number
)
_BY_LOWER_NAME = {m.api_name.lower(): m for m in MODULES}


def find_module(name: str) -> Module | None:
    """Zoho matches module names in URLs without regard to case."""
    return _BY_LOWER_NAME.get(name.lower())


def get_module(name: str) -> Module:
    module = find_module(name)
    if module is None:
        raise LookupError(name)
    return module


# --- Metadata as the API returns it ---------------------------------------------------


def module_metadata(module: Module) -> dict:
    return {
        "api_name": module.api_name,
        "module_name": module.module_name or module.api_name,
        "singular_label": module.singular_label,
        "plural_label": module.plural_label,
        "actual_singular_label": module.singular_label,
        "actual_plural_label": module.plural_label,
        "api_supported": module.api_supported,
        "editable": module.editable,
        "creatable": module.editable,
        "deletable": module.editable,
        "viewable": True,
        "convertable": module.convertable,
        "generated_type": module.generated_type,
        "visibility": module.visibility,
        "visible": True,
        "show_as_tab": True,
        "quick_create": module.editable,
        "sequence_number": module.sequence_number,
        "business_card_field_limit": 5,
        "web_link": None,
        "presence_sub_menu": module.has_records,
        "parent_module": {},
        "profiles": [{"name": "Administrator", "id": stable_id("profile", "Administrator")}],
        "modified_time": None,
        "modified_by": None,
        "id": module.id,
    }


def field_metadata(module: Module, f: Field) -> dict:
    meta = {
        "api_name": f.api_name,
        "field_label": f.label,
        "display_label": f.label,
        "data_type": f.data_type,
        "json_type": JSON_TYPES[f.data_type],
        "length": f.max_length,
        "read_only": False,
        "field_read_only": f.read_only,
        "visible": True,
        "system_mandatory": f.system_mandatory,
        "custom_field": f.custom_field,
        "mass_update": f.mass_update,
        "id": stable_id("field", module.api_name, f.api_name),
        "pick_list_values": [
            {
                "display_value": choice.display or choice.actual,
                "actual_value": choice.actual,
                "reference_value": choice.display or choice.actual,
                "sequence_number": position,
                "type": "unused" if choice.unused else "used",
                "colour_code": None,
                "id": stable_id("pick", module.api_name, f.api_name, choice.actual),
            }
            for position, choice in enumerate(f.choices, start=1)
        ],
        "sortable": f.data_type not in {"multiselectpicklist", "textarea"},
        "filterable": True,
        "searchable": f.data_type not in {"textarea"},
    }
    if f.data_type == "lookup":
        target = get_module(f.lookup_module or "")
        meta["lookup"] = {
            "display_label": target.singular_label,
            "api_name": f.api_name,
            "module": {"api_name": target.api_name, "id": target.id},
            "id": stable_id("lookup", module.api_name, f.api_name),
        }
    else:
        meta["lookup"] = {}
    if f.data_type == "currency":
        meta["currency"] = {"rounding_option": "normal", "precision": f.decimal_place or 2}
    if f.decimal_place is not None:
        meta["decimal_place"] = f.decimal_place
    return meta


def _check_ids_are_unique() -> None:
    # Derived ids could in theory collide; the schema is fixed, so checking once is enough.
    seen: set[str] = set()
    for module in MODULES:
        for f in module.fields:
            field_id = stable_id("field", module.api_name, f.api_name)
            assert field_id not in seen, f"field id collision at {module.api_name}.{f.api_name}"
            seen.add(field_id)


_check_ids_are_unique()
