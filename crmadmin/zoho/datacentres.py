"""Zoho's data centres: where to send OAuth calls and API calls for an org."""

from typing import NamedTuple


class DataCentre(NamedTuple):
    code: str
    label: str
    accounts_url: str
    api_domain: str


DATA_CENTRES: dict[str, DataCentre] = {
    dc.code: dc
    for dc in [
        DataCentre("US", "United States", "https://accounts.zoho.com", "https://www.zohoapis.com"),
        DataCentre("EU", "Europe", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
        DataCentre("IN", "India", "https://accounts.zoho.in", "https://www.zohoapis.in"),
        DataCentre(
            "AU", "Australia", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"
        ),
        DataCentre("JP", "Japan", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
        DataCentre("CN", "China", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
        DataCentre("CA", "Canada", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
        DataCentre("SA", "Saudi Arabia", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
    ]
}

# "Custom" is for a Zoho-compatible server with its own URLs, such as the built-in sandbox.
CUSTOM = "CUSTOM"
DATA_CENTRE_CHOICES = [(dc.code, f"{dc.label} ({dc.code})") for dc in DATA_CENTRES.values()] + [
    (CUSTOM, "Custom URLs (e.g. the built-in sandbox)")
]
