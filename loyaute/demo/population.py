"""A synthetic Département: services, job families, agents, logins, a telework schedule.

Deterministic for a seed. Job families include the ones the law treats with care: social work
(home visits, phone) is excluded from the check by default (rule B5) and, in the validity study,
shows the low coverage that makes it unreliable.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

FIRST_NAMES = [
    "Jean",
    "Marie",
    "Nathalie",
    "Pierre",
    "Sophie",
    "Isabelle",
    "Philippe",
    "Catherine",
    "Nicolas",
    "Sandrine",
    "Christophe",
    "Valérie",
    "Laurent",
    "Céline",
    "Stéphane",
    "Émilie",
    "Olivier",
    "Aurélie",
    "Julien",
    "Hélène",
    "Thomas",
    "Camille",
    "Sébastien",
    "Julie",
    "Frédéric",
    "Claire",
    "Mathieu",
    "Laetitia",
    "Antoine",
    "Élodie",
    "Guillaume",
    "Karine",
    "Damien",
    "Sylvie",
    "Romain",
    "Anne",
    "Vincent",
    "Christine",
    "Alexandre",
    "Corinne",
    "Benoît",
    "Héloïse",
    "François",
    "Agnès",
    "Jérôme",
    "Béatrice",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefèvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
]

# (service, job families with weights)
SERVICES: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    ("Direction des finances", (("finances", 8), ("administratif", 3), ("encadrement", 1))),
    ("Ressources humaines", (("administratif", 6), ("rh", 4), ("encadrement", 1))),
    ("Systèmes d'information", (("informatique", 9), ("encadrement", 1))),
    ("Action sociale Lille", (("travail_social", 9), ("administratif", 2), ("encadrement", 1))),
    (
        "Action sociale Valenciennes",
        (("travail_social", 9), ("administratif", 2), ("encadrement", 1)),
    ),
    ("Insertion et RSA", (("administratif", 5), ("travail_social", 4), ("encadrement", 1))),
    ("Routes et mobilités", (("technique", 6), ("administratif", 3), ("encadrement", 1))),
    ("Collèges et éducation", (("administratif", 7), ("technique", 2), ("encadrement", 1))),
)

ELIGIBLE_FAMILIES = ("administratif", "finances", "informatique", "rh", "encadrement")
"""Families whose work is mostly done on the information system (rule B5)."""

# Share of a telework half-day a person of the family spends on the system (chance of a trace).
WORK_ON_SYSTEM = {
    "administratif": 0.99,
    "finances": 0.995,
    "informatique": 0.995,
    "rh": 0.99,
    "encadrement": 0.99,
    "travail_social": 0.62,
    "technique": 0.80,
}
TELEWORK_OFF_SYSTEM = 0.05
"""Extra share of telework half-days spent off the system (calls, reading, writing by hand):
at home a half-day of work leaves no digital trace more often than at the office, which is what
the check misses and the validity study does not see."""
TELEWORK_DAYS_PER_WEEK = {
    "administratif": (1, 2, 2, 3),
    "finances": (2, 2, 3),
    "informatique": (2, 3, 3),
    "rh": (1, 2, 2),
    "encadrement": (1, 1, 2),
    "travail_social": (1, 1, 2),
    "technique": (0, 1, 1),
}

DOMAIN = "LENORD"
MAIL_DOMAIN = "lenord.fr"


def ascii_fold(text: str) -> str:
    """``Héloïse`` → ``heloise``."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()


@dataclass
class DemoAgent:
    """A synthetic agent with their logins and working habits."""

    agent_id: str
    first: str
    last: str
    service: str
    job_family: str
    manager_id: str = ""
    sam: str = ""
    telework_weekdays: tuple[int, ...] = ()
    leave: set[date] = field(default_factory=set)

    @property
    def display_name(self) -> str:
        """First and last name."""
        return f"{self.first} {self.last}"

    @property
    def upn(self) -> str:
        """``prenom.nom@lenord.fr``."""
        return f"{ascii_fold(self.first)}.{ascii_fold(self.last).replace(' ', '')}@{MAIL_DOMAIN}"

    @property
    def logins(self) -> tuple[str, ...]:
        """Every login the agent may appear under."""
        return (self.sam, self.upn)


def make_agents(n: int, rng: random.Random) -> list[DemoAgent]:
    """``n`` agents spread over the services, each service with a manager."""
    agents: list[DemoAgent] = []
    used_sam: set[str] = set()
    per_service = max(1, n // len(SERVICES))
    for i in range(n):
        service, families = SERVICES[min(i // per_service, len(SERVICES) - 1)]
        names, weights = zip(*families, strict=True)
        family = rng.choices(names, weights=weights)[0]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        base = (ascii_fold(first)[0] + ascii_fold(last)).replace(" ", "")[:12]
        sam, k = base, 1
        while sam in used_sam:
            k += 1
            sam = f"{base}{k}"
        used_sam.add(sam)
        agent = DemoAgent(f"A{i + 1:05d}", first, last, service, family, sam=sam)
        days = rng.choice(TELEWORK_DAYS_PER_WEEK[family])
        agent.telework_weekdays = tuple(sorted(rng.sample(range(5), days)))
        agents.append(agent)
    # The first agent of each service with the "encadrement" family (or the first) manages it.
    for service, _ in SERVICES:
        members = [a for a in agents if a.service == service]
        if not members:
            continue
        manager = next((a for a in members if a.job_family == "encadrement"), members[0])
        for a in members:
            a.manager_id = "" if a is manager else manager.agent_id
    # Make upn unique too
    seen: set[str] = set()
    for a in agents:
        while a.upn in seen:
            a.last = a.last + "-" + a.agent_id[-2:]
        seen.add(a.upn)
    return agents


def working_days(start: date, end: date) -> list[date]:
    """Monday to Friday from ``start`` to ``end`` inclusive."""
    out = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def plan_leave(agents: list[DemoAgent], days: list[date], rng: random.Random) -> None:
    """A week of leave for about a quarter of the agents, scattered days for others."""
    for a in agents:
        if rng.random() < 0.25 and len(days) > 10:
            start = rng.randrange(0, len(days) - 5)
            a.leave.update(days[start : start + 5])
        for d in rng.sample(days, k=min(len(days), rng.randint(0, 3))):
            a.leave.add(d)


def schedule_code(agent: DemoAgent, day: date, rng: random.Random) -> str:
    """The Octime code of an agent's day."""
    if day in agent.leave:
        return rng.choice(("CA", "CA", "RTT", "MAL"))
    if agent.job_family == "travail_social" and day.weekday() not in agent.telework_weekdays:
        return "VAD" if rng.random() < 0.35 else "PRES"
    if rng.random() < 0.02:
        return "FORM"
    if rng.random() < 0.01:
        return "ASA"
    return "TLT" if day.weekday() in agent.telework_weekdays else "PRES"
