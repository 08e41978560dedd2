"""randomuser.me 1.4's 21 nationalities: which Faker locale speaks for each, and the few
facts Faker does not know (national ID formats, time zones, a bounding box for coordinates,
and lists where Faker's locale falls back to en_US placeholders).

Fallbacks, chosen so values still read as the country: RS has no Faker locale, so names and
streets come from hr_HR (Latin-script South Slavic) and places from the lists below; TR,
NO, NZ and UA lack Faker states (TR also cities and streets), so those come from lists. Faker's MX and IR postcodes do not look
like the country's (ZIP+4, 4 to 10 digits), so those use the national formats.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NationalitySpec", "NATIONALITIES", "TIMEZONES"]

# randomuser.me's time zone table (offset -> description), verbatim.
TIMEZONES = {
    "-12:00": "Eniwetok, Kwajalein", "-11:00": "Midway Island, Samoa", "-10:00": "Hawaii",
    "-9:00": "Alaska", "-8:00": "Pacific Time (US & Canada)", "-7:00": "Mountain Time (US & Canada)",
    "-6:00": "Central Time (US & Canada), Mexico City",
    "-5:00": "Eastern Time (US & Canada), Bogota, Lima", "-4:00": "Atlantic Time (Canada), Caracas, La Paz",
    "-3:30": "Newfoundland", "-3:00": "Brazil, Buenos Aires, Georgetown", "-2:00": "Mid-Atlantic",
    "-1:00": "Azores, Cape Verde Islands", "0:00": "Western Europe Time, London, Lisbon, Casablanca",
    "+1:00": "Brussels, Copenhagen, Madrid, Paris", "+2:00": "Kaliningrad, South Africa",
    "+3:00": "Baghdad, Riyadh, Moscow, St. Petersburg", "+3:30": "Tehran",
    "+4:00": "Abu Dhabi, Muscat, Baku, Tbilisi", "+4:30": "Kabul",
    "+5:00": "Ekaterinburg, Islamabad, Karachi, Tashkent", "+5:30": "Bombay, Calcutta, Madras, New Delhi",
    "+5:45": "Kathmandu", "+6:00": "Almaty, Dhaka, Colombo", "+7:00": "Bangkok, Hanoi, Jakarta",
    "+8:00": "Beijing, Perth, Singapore, Hong Kong", "+9:00": "Tokyo, Seoul, Osaka, Sapporo, Yakutsk",
    "+9:30": "Adelaide, Darwin", "+10:00": "Eastern Australia, Guam, Vladivostok",
    "+11:00": "Magadan, Solomon Islands, New Caledonia", "+12:00": "Auckland, Wellington, Fiji, Kamchatka",
}

_TR_PROVINCES = (
    "Adana", "Ankara", "Antalya", "Aydın", "Balıkesir", "Bursa", "Denizli", "Diyarbakır",
    "Edirne", "Erzurum", "Eskişehir", "Gaziantep", "Hatay", "Isparta", "İstanbul", "İzmir",
    "Kahramanmaraş", "Kars", "Kayseri", "Kocaeli", "Konya", "Malatya", "Manisa", "Mardin",
    "Mersin", "Muğla", "Ordu", "Rize", "Sakarya", "Samsun", "Sivas", "Tekirdağ", "Trabzon",
    "Van", "Yozgat", "Zonguldak",
)
_RS_CITIES = (
    "Beograd", "Novi Sad", "Niš", "Kragujevac", "Subotica", "Zrenjanin", "Pančevo", "Čačak",
    "Kraljevo", "Novi Pazar", "Smederevo", "Leskovac", "Užice", "Vranje", "Valjevo", "Šabac",
    "Sombor", "Požarevac", "Pirot", "Zaječar", "Kruševac", "Jagodina", "Loznica", "Vršac",
)
_RS_DISTRICTS = (
    "Zlatibor", "Moravica", "Raška", "Rasina", "Nišava", "Toplica", "Pirot", "Jablanica",
    "Pčinja", "Bor", "Zaječar", "Šumadija", "Pomoravlje", "Braničevo", "Podunavlje", "Mačva",
    "Kolubara", "Srem", "Južna Bačka", "Severna Bačka", "Zapadna Bačka", "Južni Banat",
    "Severni Banat", "Srednji Banat", "Grad Beograd",
)
_NO_COUNTIES = (
    "Akershus", "Aust-Agder", "Buskerud", "Finnmark", "Hedmark", "Hordaland", "Møre og Romsdal",
    "Nordland", "Oppland", "Oslo", "Østfold", "Rogaland", "Sogn og Fjordane", "Telemark",
    "Troms", "Trøndelag", "Vest-Agder", "Vestfold",
)
_NZ_REGIONS = (
    "Auckland", "Bay of Plenty", "Canterbury", "Gisborne", "Hawke's Bay", "Manawatu-Wanganui",
    "Marlborough", "Nelson", "Northland", "Otago", "Southland", "Taranaki", "Tasman",
    "Waikato", "Wellington", "West Coast",
)

_EN_TITLES = {"male": ("Mr",), "female": ("Ms", "Mrs", "Miss")}
_FR_TITLES = {"male": ("Monsieur",), "female": ("Madame", "Mademoiselle")}


@dataclass(frozen=True)
class NationalitySpec:
    """How to build one nationality's pools. Formats use Faker's ``bothify``: ``#`` a digit,
    ``?`` an upper-case letter. ``id_name`` "" means randomuser gives ``value: null``."""

    nat: str
    country: str
    locale: str
    id_name: str
    id_format: str
    tz_offsets: tuple[str, ...]
    latitude: tuple[float, float]
    longitude: tuple[float, float]
    titles: dict | None = None  # gender -> titles; None: English
    state_provider: str = "administrative_unit"
    states: tuple[str, ...] = ()  # overrides state_provider
    cities: tuple[str, ...] = ()  # overrides Faker's city()
    street_suffixes: tuple[str, ...] = ()  # streets = "<last name> <suffix>" instead of Faker's
    phone_format: str = ""  # overrides Faker's phone_number()
    postcode_format: str = ""  # overrides Faker's postcode()


NATIONALITIES = (
    NationalitySpec("AU", "Australia", "en_AU", "TFN", "#########", ("+8:00", "+9:30", "+10:00"),
                    (-38.0, -12.5), (115.0, 153.0)),
    NationalitySpec("BR", "Brazil", "pt_BR", "CPF", "###.###.###-##", ("-3:00", "-4:00"),
                    (-30.0, -3.0), (-60.0, -35.0)),
    NationalitySpec("CA", "Canada", "en_CA", "SIN", "### ### ###",
                    ("-3:30", "-4:00", "-5:00", "-6:00", "-7:00", "-8:00"), (43.0, 60.0), (-128.0, -53.0)),
    NationalitySpec("CH", "Switzerland", "de_CH", "AVS", "756.####.####.##", ("+1:00",),
                    (45.9, 47.7), (6.0, 10.4), titles=_FR_TITLES),
    NationalitySpec("DE", "Germany", "de_DE", "SVNR", "## ###### ? ###", ("+1:00",),
                    (47.5, 54.8), (6.0, 14.9)),
    NationalitySpec("DK", "Denmark", "da_DK", "CPR", "######-####", ("+1:00",),
                    (54.8, 57.6), (8.2, 12.6)),
    NationalitySpec("ES", "Spain", "es_ES", "DNI", "########-?", ("+1:00",),
                    (36.2, 43.6), (-8.9, 3.2)),
    NationalitySpec("FI", "Finland", "fi_FI", "HETU", "######-###?", ("+2:00",),
                    (60.0, 69.8), (21.0, 31.0)),
    NationalitySpec("FR", "France", "fr_FR", "INSEE", "#############", ("+1:00",),
                    (43.0, 50.9), (-4.5, 7.6), titles=_FR_TITLES),
    NationalitySpec("GB", "United Kingdom", "en_GB", "NINO", "?? ## ## ## ?", ("0:00",),
                    (50.2, 58.5), (-5.5, 1.7)),
    NationalitySpec("IE", "Ireland", "en_IE", "PPS", "#######?", ("0:00",),
                    (51.5, 55.3), (-10.3, -6.1), phone_format="0##-###-####"),
    NationalitySpec("IN", "India", "en_IN", "UIDAI", "############", ("+5:30",),
                    (8.5, 32.0), (70.0, 88.0)),
    NationalitySpec("IR", "Iran", "fa_IR", "", "", ("+3:30",), (26.0, 39.0), (45.0, 62.0),
                    postcode_format="#####-#####"),
    NationalitySpec("MX", "Mexico", "es_MX", "NSS", "## ## ## #### #", ("-6:00", "-7:00", "-8:00"),
                    (15.0, 32.0), (-116.0, -87.0), postcode_format="#####"),
    NationalitySpec("NL", "Netherlands", "nl_NL", "BSN", "########", ("+1:00",),
                    (50.8, 53.4), (3.5, 7.1)),
    NationalitySpec("NO", "Norway", "no_NO", "FN", "###### #####", ("+1:00",),
                    (58.1, 70.9), (5.0, 30.0), states=_NO_COUNTIES),
    NationalitySpec("NZ", "New Zealand", "en_NZ", "", "", ("+12:00",),
                    (-46.5, -35.0), (167.0, 178.4), states=_NZ_REGIONS),
    NationalitySpec("RS", "Serbia", "hr_HR", "SID", "#########", ("+1:00",),
                    (42.3, 46.1), (19.0, 22.9), states=_RS_DISTRICTS, cities=_RS_CITIES,
                    phone_format="0##-####-###"),
    NationalitySpec("TR", "Turkey", "tr_TR", "", "", ("+3:00",), (36.2, 41.9), (26.1, 44.7),
                    states=_TR_PROVINCES, cities=_TR_PROVINCES, street_suffixes=("Sk", "Cd"),
                    phone_format="(###)-###-####"),
    NationalitySpec("UA", "Ukraine", "uk_UA", "", "", ("+2:00",), (44.5, 52.3), (22.2, 40.1),
                    state_provider="region"),
    NationalitySpec("US", "United States", "en_US", "SSN", "###-##-####",
                    ("-5:00", "-6:00", "-7:00", "-8:00", "-9:00", "-10:00"), (25.0, 49.0), (-124.5, -67.0)),
)


def titles_for(spec: NationalitySpec) -> dict:
    return spec.titles or _EN_TITLES
