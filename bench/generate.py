"""Generate large, realistic, deterministic log files for the parsing benchmark.

Two formats, written in the shapes FORMATS.md describes (every line is made up here; nothing is
copied from the public samples):

* ``fortigate``: FortiOS 7.x syslog, one file per day. About 90% ``type="traffic"`` lines
  (forward and local), 5% UTM and system events, 3.5% VPN lines: SSL-VPN tunnel up, down and
  statistics, web-portal logins, login failures, new connections (``user="N/A"``), IPsec
  tunnels with ``eapuser`` (IKEv2, ``user`` = peer IP) or ``xauthuser`` (IKEv1), negotiations,
  site-to-site tunnels and FortiClient endpoint connections. Most lines start with ``<PRI>``,
  some with an rsyslog relay prefix; every line has a 19-digit ``eventtime`` and ``tz``.
* ``exchange-iis``: Exchange front-end IIS W3C logs (``u_exYYMMDD.log``), UTC times increasing
  through a day, the ``#Software``/``#Version``/``#Date``/``#Fields`` header written again a few
  times mid-file (IIS restarts), and the traffic mix of a real Exchange: Outlook MAPI, EWS and
  autodiscover background, ActiveSync Ping/Sync with long ``time-taken``, phone SendMail,
  OWA actions and notification channels, back-end (port 444) ``Anonymous`` lines, 401
  challenges, ``AMProbe`` health probes.

``--mix`` picks another traffic mix: ``user93`` (IIS, ~93% of lines a person's request on the
front end) or ``vpn2`` (FortiGate, ~2% VPN lines among compact ~415-byte traffic lines).

``--lines`` is the total per format, spread over ``--files`` files (one day each, from
``--first-day``). The output depends only on ``--seed``, ``--mix``, ``--lines``, ``--files`` and
the first day; files are generated in parallel.

Usage::

    python bench/generate.py --out bench/data --lines 4000000 --files 4 [--format fortigate]
    python bench/generate.py --format exchange-iis --mix user93 --lines 1000000 --files 10
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

FORMATS = ("fortigate", "exchange-iis")
GENERATOR_VERSION = 1
MIXES: dict[str, tuple[str, ...]] = {
    "default": FORMATS,
    "user93": ("exchange-iis",),
    "vpn2": ("fortigate",),
}
"""Traffic mixes and the formats each applies to. ``default``: the mixes described below.
``user93`` (IIS): a front-end log where ~93% of lines are user requests (few back-end lines,
challenges and probes: IIS logging of the back-end site off, as many sites run it). ``vpn2``
(FortiGate): ~2% VPN lines among compact ~400-byte traffic lines (a FortiGate whose traffic log
keeps only its default fields)."""
FIRST_DAY = date(2026, 4, 14)  # a Tuesday, Europe/Paris on summer time (+0200)
TZ_OFFSET_S = 7200
DOMAIN = "LENORD"
MAIL_DOMAIN = "lenord.fr"

HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1.5, 3, 6, 9, 10, 10, 9, 6, 8, 10, 10, 9, 7, 4, 2, 1.5, 1, 1, 1)
"""Share of a day's lines per local hour: office hours carry most of the traffic."""

FIRST_NAMES = (  # noqa: SIM905 (a word list reads better as one string)
    "jean marie pierre anne michel sophie philippe nathalie alain isabelle patrick sylvie "
    "nicolas catherine christophe valerie francois sandrine laurent stephanie olivier celine "
    "eric veronique thierry christine david aurelie julien emilie sebastien caroline frederic "
    "helene vincent julie thomas camille guillaume claire antoine lucie"
).split()
LAST_NAMES = (  # noqa: SIM905 (a word list reads better as one string)
    "martin bernard dubois thomas robert richard petit durand leroy moreau simon laurent "
    "lefebvre michel garcia david bertrand roux vincent fournier morel girard andre lefevre "
    "mercier dupont lambert bonnet francois martinez legrand garnier faure rousseau blanc "
    "guerin muller henry roussel nicolas perrin morin mathieu clement gauthier dumont lopez "
    "fontaine chevalier robin masson sanchez gerard nguyen boyer denis lemaire duval joly "
    "gautier roger roche roy noel meyer lucas meunier jean perez marchand dufour blanchard"
).split()


def make_people(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` distinct people as (login, UPN): ``jdupont``, ``jean.dupont@lenord.fr``."""
    people: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        login, upn = first[0] + last, f"{first}.{last}"
        n = 1
        while login in seen:
            n += 1
            login, upn = f"{first[0]}{last}{n}", f"{first}.{last}{n}"
        seen.add(login)
        people.append((login, f"{upn}@{MAIL_DOMAIN}"))
    return people


def hms_table() -> list[str]:
    """``HH:MM:SS`` for every second of a day."""
    return [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]


def day_seconds(rng: random.Random, n: int) -> Iterator[float]:
    """``n`` increasing seconds-of-day, denser in office hours (HOUR_WEIGHTS)."""
    total = sum(HOUR_WEIGHTS)
    counts = [int(n * w / total) for w in HOUR_WEIGHTS]
    counts[10] += n - sum(counts)
    for hour, c in enumerate(counts):
        if c:
            step = 3600.0 / c
            base = hour * 3600.0
            for i in range(c):
                yield base + (i + rng.random()) * step


def random_ip(rng: random.Random, prefix: str) -> str:
    """An address under ``prefix`` (``10.``, ``192.168.`` …) or a public-looking one."""
    if prefix:
        need = 4 - prefix.count(".")
        return prefix + ".".join(str(rng.randint(1, 254)) for _ in range(need))
    return (
        f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def guid(rng: random.Random) -> str:
    """A random GUID (lower-case, dashed)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --------------------------------------------------------------------------------------------
# FortiGate
# --------------------------------------------------------------------------------------------

FGT_DEV = 'devname="FGT-LENORD-HQ" devid="FG200FTK22012345"'
FGT_TZ = '"+0200"'
VPN_GROUP = "GG-VPN-Agents"
FAIL_REASONS = ("sslvpn_login_permission_denied", "sslvpn_login_unknown_user")
DOWN_REASONS = ("connection closed", "idle-timeout", "session timeout")


def _fgt_traffic_pool(
    rng: random.Random, people: list[tuple[str, str]], size: int, compact: bool = False
) -> list[str]:
    """Pre-built traffic bodies (everything after ``vd=``); picked at random per line.

    ``compact``: forward traffic with FortiOS's default fields only (no policy UUID, NAT, device
    identification or MAC), as a FortiGate with a slimmer ``log-fields`` writes it."""
    services = (
        ("HTTPS", 443, 6, "unscanned"),
        ("HTTP", 80, 6, "unscanned"),
        ("DNS", 53, 17, "unscanned"),
        ("NTP", 123, 17, "unscanned"),
        ("tcp/8443", 8443, 6, "unknown"),
        ("SMTPS", 465, 6, "unscanned"),
        ("RDP", 3389, 6, "unknown"),
    )
    countries = ("France", "France", "France", "United States", "Ireland", "Germany", "Netherlands")
    policies = ((12, "LAN-Internet"), (14, "LAN-DMZ"), (21, "VPN-LAN"), (30, "Serveurs-Internet"))
    pool: list[str] = []
    for _ in range(size):
        svc, port, proto, appcat = rng.choice(services)
        pid, pname = rng.choice(policies)
        local = rng.random() < 0.11
        sent, rcvd = rng.randint(40, 90_000), rng.randint(40, 900_000)
        spkt, rpkt = max(1, sent // 700), max(1, rcvd // 1200)
        if local and compact:
            pool.append(
                f'logid="0001000014" type="traffic" subtype="local" level="notice" vd="root" '
                f"srcip={random_ip(rng, '')} srcport={rng.randint(1024, 65535)} "
                f'srcintf="wan1" dstip=203.0.113.10 '
                f"dstport={rng.choice((22, 443, 500, 4500, 10443, 161))} "
                f"sessionid={rng.randint(10**6, 10**9)} proto={proto} "
                f'action="{rng.choice(("deny", "deny", "accept"))}" policyid=0 '
                f'service="{svc}" duration=0 sentbyte=0 rcvdbyte=0'
            )
            continue
        if local:
            body = (
                f'logid="0001000014" type="traffic" subtype="local" level="notice" vd="root" '
                f"srcip={random_ip(rng, '')} srcport={rng.randint(1024, 65535)} "
                f'srcintf="wan1" srcintfrole="wan" dstip=203.0.113.10 '
                f"dstport={rng.choice((22, 443, 500, 4500, 10443, 161))} "
                f'dstintf="root" dstintfrole="undefined" srccountry="{rng.choice(countries)}" '
                f"sessionid={rng.randint(10**6, 10**9)} proto={proto} "
                f'action="{rng.choice(("deny", "deny", "accept"))}" policyid=0 '
                f'policytype="local-in-policy" service="{svc}" trandisp="noop" '
                f'app="{svc}" duration=0 sentbyte=0 rcvdbyte=0 sentpkt=0 rcvdpkt=0 '
                f'appcat="unscanned" crscore=5 craction=262144 crlevel="low"'
            )
        else:
            r = rng.random()
            if r < 0.04:
                login = rng.choice(people)[0]
                src = (
                    f"srcip=10.212.134.{rng.randint(2, 250)} srcport={rng.randint(1024, 65535)} "
                    f'srcintf="ssl.root" srcintfrole="undefined"'
                )
                who = f'user="{login}" group="{VPN_GROUP}" '
            elif r < 0.20:
                login = rng.choice(people)[0]
                src = (
                    f"srcip={random_ip(rng, '10.12.')} srcport={rng.randint(1024, 65535)} "
                    f'srcintf="lan" srcintfrole="lan"'
                )
                who = f'user="{login.upper()}" group="GG-Utilisateurs" authserver="LENORD-FSSO" '
            else:
                src = (
                    f"srcip={random_ip(rng, '10.12.')} srcport={rng.randint(1024, 65535)} "
                    f'srcintf="lan" srcintfrole="lan"'
                )
                who = ""
            if compact:
                src = src.replace(' srcintfrole="lan"', "").replace(' srcintfrole="undefined"', "")
                who = who.replace(' authserver="LENORD-FSSO"', "")
                pool.append(
                    f'logid="0000000013" type="traffic" subtype="forward" level="notice" '
                    f'vd="root" {src} dstip={random_ip(rng, "")} dstport={port} '
                    f"sessionid={rng.randint(10**6, 10**9)} proto={proto} "
                    f'action="{rng.choice(("close", "accept"))}" policyid={pid} {who}'
                    f'service="{svc}" duration={rng.randint(0, 600)} sentbyte={sent} '
                    f"rcvdbyte={rcvd}"
                )
                continue
            body = (
                f'logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" '
                f"{src} dstip={random_ip(rng, '')} dstport={port} "
                f'dstintf="wan1" dstintfrole="wan" srccountry="Reserved" '
                f'dstcountry="{rng.choice(countries)}" sessionid={rng.randint(10**6, 10**9)} '
                f'proto={proto} action="{rng.choice(("close", "close", "accept", "timeout"))}" '
                f'policyid={pid} policytype="policy" poluuid="{guid(rng)}" '
                f'policyname="{pname}" {who}service="{svc}" trandisp="snat" '
                f"transip=203.0.113.10 transport={rng.randint(1024, 65535)} "
                f'appcat="{appcat}" applist="default" duration={rng.randint(0, 600)} '
                f"sentbyte={sent} rcvdbyte={rcvd} sentpkt={spkt} rcvdpkt={rpkt} "
                f'vwlid=0 srchwvendor="Dell" osname="Windows" '
                f'mastersrcmac="{rng.getrandbits(48):012x}" srcserver=0'
            )
        pool.append(body)
    return pool


def _fgt_utm_pool(rng: random.Random, people: list[tuple[str, str]], size: int) -> list[str]:
    """Pre-built UTM and system event bodies (webfilter, app control, DNS, IPS, admin…)."""
    pool: list[str] = []
    hosts = ("www.service-public.fr", "cdn.example.net", "update.example.com", "news.example.org")
    for _ in range(size):
        login = rng.choice(people)[0]
        kind = rng.randrange(7)
        sip = random_ip(rng, "10.12.")
        dip = random_ip(rng, "")
        sid = rng.randint(10**6, 10**9)
        if kind == 0:
            body = (
                'logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" '
                f'level="warning" vd="root" policyid=12 sessionid={sid} user="{login.upper()}" '
                f'srcip={sip} srcport={rng.randint(1024, 65535)} srcintf="lan" '
                f'srcintfrole="lan" dstip={dip} dstport=443 dstintf="wan1" dstintfrole="wan" '
                f'proto=6 service="HTTPS" hostname="{rng.choice(hosts)}" profile="default" '
                f'action="blocked" reqtype="direct" url="https://{rng.choice(hosts)}/" '
                f'sentbyte={rng.randint(100, 3000)} rcvdbyte=0 direction="outgoing" '
                'msg="URL belongs to a denied category in policy" cat=26 '
                'catdesc="Malicious Websites"'
            )
        elif kind == 1:
            body = (
                'logid="1059028704" type="utm" subtype="app-ctrl" eventtype="signature" '
                f'level="information" vd="root" appid=40568 srcip={sip} dstip={dip} '
                f'srcport={rng.randint(1024, 65535)} dstport=443 srcintf="lan" '
                'srcintfrole="lan" dstintf="wan1" dstintfrole="wan" proto=6 service="SSL" '
                f'direction="outgoing" policyid=12 sessionid={sid} applist="default" '
                'action="pass" appcat="Web.Client" app="HTTPS.BROWSER" '
                f'hostname="{rng.choice(hosts)}" incidentserialno={rng.randint(10**6, 10**9)} '
                'url="/" msg="Web.Client: HTTPS.BROWSER" apprisk="medium"'
            )
        elif kind == 2:
            body = (
                'logid="1501054802" type="utm" subtype="dns" eventtype="dns-response" '
                f'level="notice" vd="root" policyid=12 sessionid={sid} srcip={sip} '
                f'srcport={rng.randint(1024, 65535)} srcintf="lan" srcintfrole="lan" '
                f'dstip=10.12.0.10 dstport=53 dstintf="dmz" dstintfrole="dmz" proto=17 '
                f'profile="default" xid={rng.randint(1, 65535)} qname="{rng.choice(hosts)}" '
                f'qtype="A" qtypeval=1 qclass="IN" ipaddr="{dip}" msg="Domain is monitored" '
                'action="pass" cat=52 catdesc="Information Technology"'
            )
        elif kind == 3:
            body = (
                'logid="0419016384" type="utm" subtype="ips" eventtype="signature" '
                f'level="alert" vd="root" severity="high" srcip={dip} srccountry="Reserved" '
                f'dstip=203.0.113.10 srcintf="wan1" srcintfrole="wan" dstintf="root" '
                f'dstintfrole="undefined" sessionid={sid} action="dropped" proto=6 '
                f'service="HTTPS" policyid=0 attack="Generic.Scanner" '
                f'srcport={rng.randint(1024, 65535)} dstport=10443 direction="outgoing" '
                f'attackid={rng.randint(10000, 60000)} profile="default" '
                'ref="https://ips.example/" '
                f'incidentserialno={rng.randint(10**6, 10**9)} msg="scanner detected" crscore=30'
            )
        elif kind == 4:
            ok = rng.random() < 0.7
            body = (
                f'logid="{"0100032001" if ok else "0100032002"}" type="event" subtype="system" '
                f'level="{"information" if ok else "alert"}" vd="root" '
                f'logdesc="Admin login {"successful" if ok else "failed"}" sn="{sid}" '
                'user="admin" ui="https(10.12.0.5)" method="https" srcip=10.12.0.5 '
                f'dstip=10.12.0.1 action="login" status="{"success" if ok else "failed"}" '
                f'reason="{"none" if ok else "passwd_invalid"}" msg="Administrator admin login"'
            )
        elif kind == 5:
            body = (
                'logid="0102043008" type="event" subtype="user" level="notice" vd="root" '
                f'logdesc="Authentication success" srcip={sip} dstip={dip} policyid=12 '
                f'interface="lan" user="{login}" group="GG-Utilisateurs" '
                'authproto="HTTPS(10.12.0.1)" action="authentication" status="success" '
                f'reason="N/A" msg="User {login} succeeded in authentication"'
            )
        else:
            body = (
                'logid="0100026001" type="event" subtype="system" level="information" '
                f'vd="root" logdesc="DHCP Ack log" interface="lan" dhcp_msg="Ack" '
                f'mac="{rng.getrandbits(48):012x}" ip={sip} lease=86400 '
                f'hostname="PC-{rng.randint(1000, 9999)}" msg="DHCP server sends a DHCPACK"'
            )
        pool.append(body)
    return pool


class _Sessions:
    """Open VPN sessions, picked at random for statistics and tunnel-down lines."""

    def __init__(self) -> None:
        self.items: list[tuple[str, float, int, str]] = []  # (login, start, tunnel id, peer)
        self.users: set[str] = set()

    def open(self, login: str, start: float, tunnel: int, peer: str) -> None:
        self.items.append((login, start, tunnel, peer))
        self.users.add(login)

    def pick(self, rng: random.Random, close: bool) -> tuple[str, float, int, str] | None:
        if not self.items:
            return None
        i = rng.randrange(len(self.items))
        item = self.items[i]
        if close:
            self.items[i] = self.items[-1]
            self.items.pop()
            self.users.discard(item[0])
        return item


VPN_KINDS = (
    ("ssl_newcon", 8),
    ("ssl_up", 8),
    ("ssl_stats", 22),
    ("ssl_down", 7),
    ("web_up", 2),
    ("web_down", 2),
    ("ssl_fail", 4),
    ("ipsec_nego", 12),
    ("ipsec_up", 5),
    ("ipsec_stats", 12),
    ("ipsec_down", 4),
    ("site_to_site", 4),
    ("endpoint_add", 5),
    ("endpoint_close", 5),
)


class FortiGateWriter:
    """Writes one day of FortiGate syslog."""

    def __init__(
        self, rng: random.Random, day: date, people: list[tuple[str, str]], mix: str = "default"
    ) -> None:
        self.rng = rng
        self.vpn_share, self.utm_share = (0.02, 0.04) if mix == "vpn2" else (0.035, 0.05)
        self.compact = mix == "vpn2"
        self.day = day
        self.people = people
        # How each person's login is written: SSL-VPN user, IPsec eapuser/xauthuser.
        self.vpn_login = {
            login: rng.choices((login, f"{DOMAIN}\\{login}", upn, login.upper()), (60, 12, 25, 3))[
                0
            ]
            for login, upn in people
        }
        self.ike_v1 = {login for login, _ in people if rng.random() < 0.25}
        self.ssl = _Sessions()
        self.web = _Sessions()
        self.ipsec = _Sessions()
        self.endpoints = _Sessions()
        self.traffic = _fgt_traffic_pool(rng, people, 6000, compact=self.compact)
        self.utm = _fgt_utm_pool(rng, people, 1500)
        midnight_local = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self.local_epoch = midnight_local.timestamp() - TZ_OFFSET_S  # UTC epoch of local 00:00
        self.local_date = day.isoformat()
        self.prev_date = (day - timedelta(days=1)).isoformat()
        self.hms = hms_table()

    def lines(self, n: int) -> Iterator[str]:
        """``n`` lines (without newline), in time order."""
        rng = self.rng
        rnd = rng.random
        traffic, utm = self.traffic, self.utm
        nt, nu = len(traffic), len(utm)
        hms = self.hms
        vpn_names = [k for k, _ in VPN_KINDS]
        vpn_weights = [w for _, w in VPN_KINDS]
        vpn_kinds: list[str] = []
        for sec in day_seconds(rng, n):
            r = rnd()
            isec = int(sec)
            ns = int((self.local_epoch + sec) * 1e9)
            ns -= ns % 1000
            ns += rng.randrange(1000)
            if r < self.vpn_share:
                if not vpn_kinds:
                    vpn_kinds = rng.choices(vpn_names, vpn_weights, k=1000)
                level, body = self._vpn(vpn_kinds.pop(), sec)
            elif r < self.vpn_share + self.utm_share:
                level, body = "notice", utm[int(rnd() * nu)]
            else:
                level, body = "notice", traffic[int(rnd() * nt)]
            head = f"date={self.local_date} time={hms[isec]} {FGT_DEV} eventtime={ns} tz={FGT_TZ} "
            if rnd() < 0.15:
                utc = isec - TZ_OFFSET_S
                utc_date = self.local_date if utc >= 0 else self.prev_date
                frac = f"{int((sec - isec) * 1e6):06d}"
                prefix = f"{utc_date}T{hms[utc % 86400]}.{frac}+00:00 192.168.2.1 "
            else:
                prefix = "<190>" if level == "information" else "<189>"
            yield prefix + head + body

    def _vpn(self, kind: str, sec: float) -> tuple[str, str]:
        """One VPN or endpoint line of the given kind; falls back to an 'up' when none is open."""
        rng = self.rng
        head = 'type="event" subtype="vpn"'
        if kind in ("ssl_stats", "ssl_down") and not self.ssl.items:
            kind = "ssl_up"
        if kind in ("ipsec_stats", "ipsec_down") and not self.ipsec.items:
            kind = "ipsec_up"
        if kind == "web_down" and not self.web.items:
            kind = "web_up"
        if kind == "endpoint_close" and not self.endpoints.items:
            kind = "endpoint_add"
        remip = random_ip(rng, "")
        if kind == "ssl_newcon":
            return "information", (
                f'logid="0101039943" {head} level="information" vd="root" '
                'logdesc="SSL VPN new connection" action="ssl-new-con" tunneltype="ssl" '
                f'tunnelid=0 remip={remip} user="N/A" group="N/A" dst_host="N/A" reason="N/A" '
                'msg="SSL new connection"'
            )
        if kind == "ssl_fail":
            login = rng.choice(self.people)[0]
            if rng.random() < 0.3:
                login = f"{login}x"
            return "alert", (
                f'logid="0101039426" {head} level="alert" vd="root" '
                'logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-web" '
                f'tunnelid=0 remip={remip} user="{self.vpn_login.get(login, login)}" '
                f'group="N/A" dst_host="N/A" reason="{rng.choice(FAIL_REASONS)}" '
                'msg="SSL user failed to logged in"'
            )
        if kind in ("ssl_up", "web_up"):
            pool = self.ssl if kind == "ssl_up" else self.web
            login = self._free_login()
            tunnel = rng.randint(10**8, 4 * 10**9)
            pool.open(login, sec, tunnel, remip)
            ttype = "ssl-tunnel" if kind == "ssl_up" else "ssl-web"
            logid = "0101039947" if kind == "ssl_up" else "0101039424"
            tip = f"tunnelip=10.212.134.{rng.randint(2, 250)} " if kind == "ssl_up" else ""
            return "information", (
                f'logid="{logid}" {head} level="information" vd="root" '
                f'logdesc="SSL VPN tunnel up" action="tunnel-up" tunneltype="{ttype}" '
                f'tunnelid={tunnel} remip={remip} {tip}user="{self.vpn_login[login]}" '
                f'group="{VPN_GROUP}" dst_host="N/A" reason="tunnel established" '
                'msg="SSL tunnel established"'
            )
        if kind in ("ssl_stats", "ssl_down", "web_down"):
            pool = self.web if kind == "web_down" else self.ssl
            item = pool.pick(rng, close=kind != "ssl_stats")
            assert item is not None
            login, start, tunnel, peer = item
            duration = max(1, int(sec - start))
            sent, rcvd = duration * rng.randint(500, 5000), duration * rng.randint(2000, 40000)
            if kind == "ssl_stats":
                return "information", (
                    f'logid="0101039949" {head} level="information" vd="root" '
                    'logdesc="SSL VPN statistics" action="tunnel-stats" tunneltype="ssl-tunnel" '
                    f'tunnelid={tunnel} remip={peer} user="{self.vpn_login[login]}" '
                    f'group="{VPN_GROUP}" dst_host="N/A" duration={duration} '
                    f'sentbyte={sent} rcvdbyte={rcvd} msg="SSL tunnel statistics"'
                )
            logid = "0101039948" if kind == "ssl_down" else "0101039425"
            ttype = "ssl-tunnel" if kind == "ssl_down" else "ssl-web"
            return "information", (
                f'logid="{logid}" {head} level="information" vd="root" '
                f'logdesc="SSL VPN tunnel down" action="tunnel-down" tunneltype="{ttype}" '
                f'tunnelid={tunnel} remip={peer} user="{self.vpn_login[login]}" '
                f'group="{VPN_GROUP}" dst_host="N/A" reason="{rng.choice(DOWN_REASONS)}" '
                f'duration={duration} sentbyte={sent} rcvdbyte={rcvd} msg="SSL tunnel shutdown"'
            )
        if kind == "ipsec_nego":
            login = rng.choice(self.people)[0]
            who = self._ike_who(login, remip)
            logid, desc = rng.choice(
                (
                    ("0101037120", "Negotiate IPsec phase 1"),
                    ("0101037127", "Progress IPsec phase 1"),
                )
            )
            return "notice", (
                f'logid="{logid}" {head} level="notice" vd="root" logdesc="{desc}" '
                f'msg="{desc.lower()}" action="negotiate" remip={remip} locip=203.0.113.10 '
                f'remport=4500 locport=4500 outintf="wan1" srccountry="France" '
                f'cookies="{rng.getrandbits(64):016x}/{rng.getrandbits(64):016x}" {who} '
                'assignip=N/A vpntunnel="FCT-Agents" status="success" init="remote" '
                'mode="main" dir="inbound" stage=1 role="responder" result="OK"'
            )
        if kind == "site_to_site":
            stats = rng.random() < 0.6
            action = "tunnel-stats" if stats else rng.choice(("tunnel-up", "tunnel-down"))
            logid = "0101037141" if stats else "0101037138"
            peer = rng.choice(("198.51.100.7", "198.51.100.9", "192.0.2.44"))
            user = rng.choice(("N/A", peer))
            desc = "IPsec tunnel statistics" if stats else "IPsec connection status changed"
            return "notice", (
                f'logid="{logid}" {head} level="notice" vd="root" '
                f'logdesc="{desc}" msg="{desc}" action="{action}" remip={peer} '
                "locip=203.0.113.10 remport=500 locport=500 "
                f'outintf="wan1" srccountry="France" cookies="{rng.getrandbits(64):016x}/'
                f'{rng.getrandbits(64):016x}" user="{user}" group="N/A" useralt="N/A" '
                f'xauthuser="N/A" xauthgroup="N/A" assignip=N/A vpntunnel="S2S-Site-Annexe" '
                f"tunnelip={peer} tunnelid={rng.randint(10**8, 4 * 10**9)} "
                f'tunneltype="ipsec" duration={rng.randint(60, 86400)} '
                f"sentbyte={rng.randint(0, 10**9)} rcvdbyte={rng.randint(0, 10**9)} "
                "nextstat=600 advpnsc=0"
            )
        if kind in ("ipsec_up", "ipsec_stats", "ipsec_down"):
            if kind == "ipsec_up":
                login = self._free_login()
                tunnel = rng.randint(10**8, 4 * 10**9)
                self.ipsec.open(login, sec, tunnel, remip)
                peer, duration, action, logid = remip, 0, "tunnel-up", "0101037138"
            else:
                item = self.ipsec.pick(rng, close=kind == "ipsec_down")
                assert item is not None
                login, start, tunnel, peer = item
                duration = max(1, int(sec - start))
                if kind == "ipsec_stats":
                    action, logid = "tunnel-stats", "0101037141"
                else:
                    action, logid = "tunnel-down", "0101037138"
            who = self._ike_who(login, peer)
            desc = (
                "IPsec tunnel statistics"
                if kind == "ipsec_stats"
                else "IPsec connection status changed"
            )
            return "notice", (
                f'logid="{logid}" {head} level="notice" vd="root" logdesc="{desc}" '
                f'msg="{desc}" action="{action}" remip={peer} locip=203.0.113.10 '
                f'remport=4500 locport=4500 outintf="wan1" srccountry="France" '
                f'cookies="{rng.getrandbits(64):016x}/{rng.getrandbits(64):016x}" {who} '
                f'assignip=10.212.135.{rng.randint(2, 250)} vpntunnel="FCT-Agents_0" '
                f"tunnelip=10.212.135.{rng.randint(2, 250)} tunnelid={tunnel} "
                f'tunneltype="ipsec" duration={duration} '
                f"sentbyte={duration * 900} rcvdbyte={duration * 7000} nextstat=600 "
                f'fctuid="{rng.getrandbits(128):032X}" advpnsc=0'
            )
        # FortiClient endpoint connections (EMS telemetry through the FortiGate).
        close = kind == "endpoint_close"
        if close:
            item = self.endpoints.pick(rng, close=True)
            assert item is not None
            login, _, _, ip = item
        else:
            login = rng.choice(self.people)[0]
            ip = f"10.212.134.{rng.randint(2, 250)}"
            self.endpoints.open(login, sec, 0, ip)
        return "information", (
            f'logid="{"0107045058" if close else "0107045057"}" type="event" subtype="endpoint" '
            f'level="information" vd="root" '
            f'logdesc="FortiClient connection {"closed" if close else "added"}" '
            f'action="{"close" if close else "add"}" status="success" '
            f'license_limit="unlimited" used_for_type={5 if close else 4} '
            f'connection_type="sslvpn" count=1 user="{login}" ip={ip} '
            f'name="PC-{login.upper()[:8]}" fctuid="{rng.getrandbits(128):032X}" '
            f'msg="{"Close" if close else "Add"} a FortiClient Connection."'
        )

    def _free_login(self) -> str:
        busy = self.ssl.users | self.ipsec.users | self.web.users
        for _ in range(20):
            login = self.rng.choice(self.people)[0]
            if login not in busy:
                return login
        return self.rng.choice(self.people)[0]

    def _ike_who(self, login: str, peer: str) -> str:
        """IKEv2 dial-up: ``user`` = peer IP and ``eapuser``; IKEv1: ``xauthuser``."""
        name = self.vpn_login[login]
        if login in self.ike_v1:
            return f'user="N/A" group="N/A" xauthuser="{name}" xauthgroup="{VPN_GROUP}"'
        return f'user="{peer}" group="N/A" useralt="N/A" eapuser="{name}" eapauthgroup="rad_vpn"'


# --------------------------------------------------------------------------------------------
# Exchange IIS
# --------------------------------------------------------------------------------------------

IIS_FIELDS = (
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken"
)
OUTLOOK_UA = (
    "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.17328;+Pro)",
    "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.16130;+Pro)",
    "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.14332;+Pro)",
)
EWS_UA = (
    "MacOutlook/16.84.24041420+(Intelx64+Mac+OS+X+14.4.1+(Build+23E224))",
    "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.17328;+Pro)",
    "Microsoft+Office/16.0+(Windows+NT+10.0;+Teams/1.7.00.6058)",
    "ExchangeServicesClient/15.02.1544.004",
)
PHONE_UA = (
    ("Apple-iPhone15C2/2104.184", "iPhone"),
    ("Apple-iPhone14C5/2105.110", "iPhone"),
    ("Apple-iPad13C10/2104.184", "iPad"),
    ("Android-Mail/2024.03.10.615339216.Release", "Android"),
    ("Outlook-iOS-Android/1.0", "Outlook"),
)
BROWSER_UA = (
    "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)"
    "+Chrome/124.0.0.0+Safari/537.36+Edg/124.0.0.0",
    "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64;+rv:125.0)+Gecko/20100101+Firefox/125.0",
    "Mozilla/5.0+(Macintosh;+Intel+Mac+OS+X+10_15_7)+AppleWebKit/605.1.15+(KHTML,+like+Gecko)"
    "+Version/17.4+Safari/605.1.15",
)
EAS_BACKGROUND = (("Ping", 45), ("Sync", 35), ("FolderSync", 10), ("GetItemEstimate", 5))
EAS_BACKGROUND += (("Provision", 2), ("Settings", 2), ("ItemOperations", 1))
EAS_INTERACTIVE = ("SendMail", "SmartReply", "SmartForward", "MeetingResponse", "MoveItems")
OWA_INTERACTIVE = (
    "GetItem",
    "FindItem",
    "FindConversation",
    "CreateItem",
    "UpdateItem",
    "SendItem",
    "DeleteItem",
    "MoveItem",
    "GetConversationItems",
)
OWA_BACKGROUND = ("SubscribeToNotification", "GetOwaUserConfiguration")

IIS_KINDS = (
    ("mapi", 350),
    ("ews", 100),
    ("autodiscover", 50),
    ("eas_background", 150),
    ("eas_interactive", 20),
    ("owa_action", 50),
    ("owa_background", 30),
    ("backend", 150),
    ("challenge", 50),
    ("probe", 10),
    ("owa_signin", 5),
    ("other", 35),
)


IIS_KINDS_USER93 = (
    ("mapi", 400),
    ("ews", 120),
    ("autodiscover", 50),
    ("eas_background", 180),
    ("eas_interactive", 25),
    ("owa_action", 70),
    ("owa_background", 40),
    ("backend", 25),
    ("challenge", 30),
    ("probe", 5),
    ("owa_signin", 5),
    ("other", 25),
)
"""The ``user93`` mix: about 93% of lines are a person's request on the front end."""


class IisWriter:
    """Writes one day of Exchange front-end IIS logs."""

    def __init__(
        self, rng: random.Random, day: date, people: list[tuple[str, str]], mix: str = "default"
    ) -> None:
        self.rng = rng
        self.kinds = IIS_KINDS_USER93 if mix == "user93" else IIS_KINDS
        self.day = day
        self.people = people
        self.date = day.isoformat()
        self.hms = hms_table()
        self.sip = "10.1.2.10"
        self.reqids = [guid(rng) for _ in range(20000)]
        self.clients = [random_ip(rng, "10.12.") for _ in range(3000)]
        self.remote = [random_ip(rng, "") for _ in range(2000)]
        self.devices = {
            login: (f"{rng.getrandbits(104):026X}", rng.choice(PHONE_UA))
            for login, _ in people
            if rng.random() < 0.55
        }
        self.phone_users = sorted(self.devices)
        self.mailbox = {login: guid(rng) for login, _ in people}
        self.ews_form = {
            login: rng.choices((f"{DOMAIN}\\{login}", upn, login), (50, 40, 10))[0]
            for login, upn in people
        }
        self.upn = dict(people)

    def header(self, sec: float) -> list[str]:
        """The directive block IIS writes when it opens the file or restarts."""
        return [
            "#Software: Microsoft Internet Information Services 10.0",
            "#Version: 1.0",
            f"#Date: {self.date} {self.hms[int(sec)]}",
            f"#Fields: {IIS_FIELDS}",
        ]

    def lines(self, n: int) -> Iterator[str]:
        """``n`` lines (headers included), in time order."""
        rng = self.rng
        restarts: set[int] = set()
        if n > 200:
            while len(restarts) < 3:
                restarts.add(rng.randrange(n // 10, n - 100))
        data_lines = n - 4 * (1 + len(restarts))
        yield from self.header(0)
        names = [k for k, _ in self.kinds]
        weights = [w for _, w in self.kinds]
        kinds: list[str] = []
        make = {name: getattr(self, f"_{name}") for name in names}
        hms = self.hms
        for i, sec in enumerate(day_seconds(rng, data_lines)):
            if i in restarts:
                yield from self.header(sec)
            if not kinds:
                kinds = rng.choices(names, weights, k=2000)
            yield make[kinds.pop()](hms[int(sec)])

    def _line(
        self,
        hms: str,
        method: str,
        stem: str,
        query: str,
        user: str,
        cip: str,
        ua: str,
        status: str = "200 0 0",
        taken: int = 15,
        port: int = 443,
        referer: str = "-",
    ) -> str:
        return (
            f"{self.date} {hms} {self.sip} {method} {stem} {query} {port} {user} {cip} {ua} "
            f"{referer} {status} {taken}"
        )

    def _person(self) -> tuple[str, str]:
        return self.rng.choice(self.people)

    def _reqid(self) -> str:
        return self.reqids[int(self.rng.random() * len(self.reqids))]

    def _client(self) -> str:
        rng = self.rng
        pool = self.clients if rng.random() < 0.7 else self.remote
        return pool[int(rng.random() * len(pool))]

    def _mapi(self, hms: str) -> str:
        rng = self.rng
        login, _ = self._person()
        stem = "/mapi/emsmdb/" if rng.random() < 0.85 else "/mapi/nspi/"
        query = (
            f"mailboxId={self.mailbox[login]}@{MAIL_DOMAIN}&clientId={rng.getrandbits(64):016X}"
            f"&cafeReqId={self._reqid()};"
        )
        return self._line(
            hms,
            "POST",
            stem,
            query,
            f"{DOMAIN}\\{login}",
            self._client(),
            rng.choice(OUTLOOK_UA),
            taken=rng.randint(2, 900) if rng.random() < 0.9 else rng.randint(1000, 60000),
        )

    def _ews(self, hms: str) -> str:
        rng = self.rng
        login, _ = self._person()
        return self._line(
            hms,
            "POST",
            "/EWS/Exchange.asmx",
            f"&CorrelationID=<empty>;&cafeReqId={self._reqid()};",
            self.ews_form[login],
            self._client(),
            rng.choice(EWS_UA),
            taken=rng.randint(5, 3000),
        )

    def _autodiscover(self, hms: str) -> str:
        rng = self.rng
        login, _ = self._person()
        stem = rng.choice(("/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"))
        return self._line(
            hms,
            "POST",
            stem,
            f"&cafeReqId={self._reqid()};",
            self.ews_form[login],
            self._client(),
            rng.choice(OUTLOOK_UA),
            taken=rng.randint(20, 400),
        )

    def _eas(self, hms: str, cmd: str, status: str = "200 0 0", user: str | None = None) -> str:
        rng = self.rng
        login = self.phone_users[int(rng.random() * len(self.phone_users))]
        device, (ua, dtype) = self.devices[login]
        upn = self.upn[login]
        if cmd == "Ping":
            taken = rng.choice((480_000, 900_000, 1_740_000, 3_540_000, 3_600_000))
            taken += rng.randint(0, 60)
            if rng.random() < 0.2:
                taken = rng.randint(20, 60_000)  # a Ping answered early: new mail
        elif cmd == "Sync":
            taken = rng.randint(30, 30_000)
        else:
            taken = rng.randint(20, 2000)
        query_user = upn if dtype == "Outlook" else login
        query = (
            f"User={query_user}&DeviceId={device}&DeviceType={dtype}&Cmd={cmd}"
            f"&CorrelationID=<empty>;&cafeReqId={self._reqid()};"
        )
        return self._line(
            hms,
            "POST",
            "/Microsoft-Server-ActiveSync/default.eas",
            query,
            upn if user is None else user,
            self.remote[int(rng.random() * len(self.remote))],
            ua,
            status=status,
            taken=taken,
        )

    def _eas_background(self, hms: str) -> str:
        cmds, weights = zip(*EAS_BACKGROUND, strict=True)
        return self._eas(hms, self.rng.choices(cmds, weights)[0])

    def _eas_interactive(self, hms: str) -> str:
        return self._eas(hms, self.rng.choice(EAS_INTERACTIVE))

    def _owa(self, hms: str, action: str, taken: int) -> str:
        rng = self.rng
        login, _ = self._person()
        query = (
            f"action={action}&EP=1&ID=-{rng.randint(1, 200)}&AC=1"
            f"&CorrelationID={self._reqid()}_{rng.getrandbits(48)};&cafeReqId={self._reqid()};"
        )
        return self._line(
            hms,
            "POST",
            "/owa/service.svc",
            query,
            f"{DOMAIN}\\{login}",
            self._client(),
            rng.choice(BROWSER_UA),
            taken=taken,
            referer=f"https://mail.{MAIL_DOMAIN}/owa/",
        )

    def _owa_action(self, hms: str) -> str:
        return self._owa(hms, self.rng.choice(OWA_INTERACTIVE), self.rng.randint(8, 900))

    def _owa_background(self, hms: str) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return self._owa(hms, rng.choice(OWA_BACKGROUND), rng.randint(5, 200))
        login, _ = self._person()
        if r < 0.9:
            stem, query = (
                "/owa/ev.owa2",
                (
                    f"ns=PendingRequest&ev=PendingNotificationRequest&UA=0&cid={self._reqid()}"
                    f"&X-OWA-CANARY={rng.getrandbits(128):032x}"
                ),
            )
            method, taken = "POST", rng.randint(20_000, 600_000)
        else:
            stem, query = "/owa/ping.owa", "-"
            method, taken = "GET", rng.randint(2, 40)
        return self._line(
            hms,
            method,
            stem,
            query,
            f"{DOMAIN}\\{login}",
            self._client(),
            rng.choice(BROWSER_UA),
            taken=taken,
            referer=f"https://mail.{MAIL_DOMAIN}/owa/",
        )

    def _backend(self, hms: str) -> str:
        rng = self.rng
        login, _ = self._person()
        r = rng.random()
        cip = f"fe80::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}"
        cip += f"%{rng.randint(2, 9)}"
        if r < 0.6:
            stem, query = "/mapi/emsmdb/", f"MailboxId={self.mailbox[login]}@{MAIL_DOMAIN}"
            user, ua = "Anonymous", rng.choice(OUTLOOK_UA)
        elif r < 0.8:
            stem, query = "/EWS/Exchange.asmx", f"&cafeReqId={self._reqid()};"
            user, ua = "Anonymous", rng.choice(EWS_UA)
        elif r < 0.92:
            stem = "/Microsoft-Server-ActiveSync/Proxy/default.eas"
            query = f"User={login}&DeviceType=iPhone&Cmd=Ping&cafeReqId={self._reqid()};"
            user, ua = self.upn[login], PHONE_UA[0][0]
        else:
            stem, query = "/autodiscover/autodiscover.xml", f"&reqId={self._reqid()}"
            user, ua = f"{DOMAIN}\\{login}", rng.choice(OUTLOOK_UA)
        return self._line(
            hms, "POST", stem, query, user, cip, ua, taken=rng.randint(1, 500), port=444
        )

    def _challenge(self, hms: str) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return self._eas(hms, "Ping", status="401 2 5", user="-").rsplit(" ", 1)[0] + " 0"
        stem = rng.choice(("/mapi/emsmdb/", "/EWS/Exchange.asmx", "/autodiscover/autodiscover.xml"))
        status = "401 1 2148074254" if rng.random() < 0.5 else "401 2 5"
        return self._line(
            hms,
            "POST",
            stem,
            f"&cafeReqId={self._reqid()};",
            "-",
            self._client(),
            rng.choice(OUTLOOK_UA),
            status=status,
            taken=rng.randint(0, 15),
        )

    def _probe(self, hms: str) -> str:
        rng = self.rng
        box = f"HealthMailbox{rng.getrandbits(28):07x}"
        r = rng.random()
        if r < 0.3:
            return self._line(
                hms, "GET", "/owa/healthcheck.htm", "-", "-", "127.0.0.1",
                "AMProbe/Local/ClientAccess", taken=rng.randint(1, 5),
            )  # fmt: skip
        stem = rng.choice(("/mapi/emsmdb/", "/EWS/Exchange.asmx", "/owa/service.svc"))
        user = f"{DOMAIN}\\{box}" if r < 0.7 else f"{box}@{MAIL_DOMAIN}"
        return self._line(
            hms, "POST", stem, f"&cafeReqId={self._reqid()};", user, "::1",
            "AMProbe/Local/ClientAccess", taken=rng.randint(3, 300),
        )  # fmt: skip

    def _owa_signin(self, hms: str) -> str:
        rng = self.rng
        login, _ = self._person()
        return self._line(
            hms,
            "POST",
            "/owa/auth.owa",
            "&CorrelationID=<empty>;&cafeReqId=" + self._reqid() + ";",
            f"{DOMAIN}\\{login}",
            self._client(),
            rng.choice(BROWSER_UA),
            status="302 0 0",
            taken=rng.randint(30, 400),
            referer=f"https://mail.{MAIL_DOMAIN}/owa/auth/logon.aspx",
        )

    def _other(self, hms: str) -> str:
        rng = self.rng
        login, _ = self._person()
        user = f"{DOMAIN}\\{login}"
        r = rng.random()
        ua = rng.choice(BROWSER_UA)
        if r < 0.25:  # OWA static resources: no user yet
            stem = "/owa/prem/15.2.1544.4/resources/styles/0/"
            stem += f"boot.worldwide.{rng.randint(0, 3)}.mouse.css"
            return self._line(hms, "GET", stem, "-", "-", self._client(), ua, "304 0 0", 3)
        if r < 0.40:  # OWA start page
            return self._line(hms, "GET", "/owa/", "-", user, self._client(), ua, taken=120)
        if r < 0.55:  # ECP options
            stem = "/ecp/PersonalSettings/HomePage.aspx"
            return self._line(hms, "GET", stem, "showhelp=false", user, self._client(), ua)
        if r < 0.70:  # OAB download by Outlook
            stem = f"/OAB/{self.reqids[0]}/oab.xml"
            return self._line(hms, "GET", stem, "-", user, self._client(), rng.choice(OUTLOOK_UA))
        if r < 0.80:  # Outlook Anywhere
            method = rng.choice(("RPC_IN_DATA", "RPC_OUT_DATA"))
            return self._line(
                hms, method, "/rpc/rpcproxy.dll", f"{rng.getrandbits(32):x}:6001", user,
                self._client(), "MSRPC", taken=rng.randint(1000, 900_000),
            )  # fmt: skip
        if r < 0.90:  # OWA session expired
            q = f"action=GetItem&EP=1&ID=-3&AC=1&cafeReqId={self._reqid()};"
            return self._line(
                hms, "POST", "/owa/service.svc", q, user, self._client(), ua, "440 0 0"
            )
        return self._line(hms, "GET", "/favicon.ico", "-", "-", self._client(), ua, "200 0 0", 1)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def file_name(fmt: str, index: int, first_day: date = FIRST_DAY) -> str:
    """Name of the ``index``-th (0-based) file of a format."""
    day = first_day + timedelta(days=index)
    if fmt == "fortigate":
        return f"fortigate-{day.isoformat()}.log"
    return f"u_ex{day:%y%m%d}.log"


def _write_one(job: tuple[str, int, int, int, Path, bool, str, date]) -> tuple[str, int, int]:
    """Write one file; returns (path, lines, bytes)."""
    fmt, index, n, seed, out, also_gzip, mix, first_day = job
    people = make_people(random.Random(f"{seed}-people"), 1800)
    # The default mix keeps the seed it always had, so its files stay byte for byte the same.
    rng = random.Random(f"{seed}-{fmt}-{index}" + ("" if mix == "default" else f"-{mix}"))
    day = first_day + timedelta(days=index)
    writer: FortiGateWriter | IisWriter
    writer = (
        FortiGateWriter(rng, day, people, mix)
        if fmt == "fortigate"
        else IisWriter(rng, day, people, mix)
    )
    path = out / file_name(fmt, index, first_day)
    written = 0
    with path.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as f:
        batch: list[str] = []
        for line in writer.lines(n):
            batch.append(line)
            if len(batch) >= 10000:
                f.write("\n".join(batch))
                f.write("\n")
                written += len(batch)
                batch.clear()
        if batch:
            f.write("\n".join(batch))
            f.write("\n")
            written += len(batch)
    if also_gzip:
        with path.open("rb") as src, gzip.open(f"{path}.gz", "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    return str(path), written, path.stat().st_size


def data_dir(
    root: Path,
    fmt: str,
    lines: int,
    files: int,
    seed: int,
    mix: str = "default",
    first_day: date = FIRST_DAY,
) -> Path:
    """Where the files of one format, mix, size and first day live."""
    tag = fmt if mix == "default" else f"{fmt}-{mix}"
    when = "" if first_day == FIRST_DAY else f"-d{first_day:%Y%m%d}"
    return root / f"{tag}-{lines}x{files}-s{seed}{when}"


def manifest_ok(
    folder: Path,
    lines: int,
    files: int,
    seed: int,
    mix: str = "default",
    first_day: date = FIRST_DAY,
) -> bool:
    """True when ``folder`` holds a complete set written by this generator version."""
    try:
        meta = json.loads((folder / "MANIFEST.json").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("version") == GENERATOR_VERSION and meta.get("lines") == lines and all(
        (folder / name).is_file() for name in meta.get("files", [])
    ) and meta.get("files_count") == files and meta.get("seed") == seed and meta.get(
        "mix", "default"
    ) == mix and meta.get("first_day", FIRST_DAY.isoformat()) == first_day.isoformat()  # fmt: skip


def generate(
    root: Path,
    fmt: str,
    lines: int,
    files: int,
    seed: int = 7,
    also_gzip: bool = False,
    jobs: int = 2,
    log: Callable[[str], None] = print,
    mix: str = "default",
    first_day: date = FIRST_DAY,
) -> Path:
    """Write ``lines`` lines of ``fmt`` over ``files`` files under ``root``; returns the folder.

    Reuses a complete folder written earlier with the same parameters."""
    if fmt not in MIXES[mix]:
        raise ValueError(f"mix {mix} is not defined for {fmt}")
    folder = data_dir(root, fmt, lines, files, seed, mix, first_day)
    if manifest_ok(folder, lines, files, seed, mix, first_day) and not also_gzip:
        log(f"{folder}: already there")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MANIFEST.json").unlink(missing_ok=True)
    per_file = [lines // files + (1 if i < lines % files else 0) for i in range(files)]
    todo = [(fmt, i, n, seed, folder, also_gzip, mix, first_day) for i, n in enumerate(per_file)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, files))) as pool:
        results = list(pool.map(_write_one, todo))
    total = sum(r[1] for r in results)
    size = sum(r[2] for r in results)
    meta = {
        "version": GENERATOR_VERSION,
        "format": fmt,
        "mix": mix,
        "first_day": first_day.isoformat(),
        "lines": lines,
        "files_count": files,
        "seed": seed,
        "files": [Path(r[0]).name for r in results],
        "bytes": size,
    }
    (folder / "MANIFEST.json").write_text(json.dumps(meta, indent=2) + "\n")
    log(
        f"{folder}: {total:,} lines, {size / 1e6:,.0f} MB in {files} file(s), "
        f"{time.perf_counter() - started:.0f} s"
    )
    return folder


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--out DIR --lines N --files K [--format F] [--mix M] [--seed S] [--gzip]``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--lines", type=int, default=4_000_000, help="total lines per format")
    ap.add_argument("--files", type=int, default=4, help="files per format (one day each)")
    ap.add_argument("--format", choices=(*FORMATS, "all"), default="all")
    ap.add_argument("--mix", choices=tuple(MIXES), default="default", help="traffic mix")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--first-day", type=date.fromisoformat, default=FIRST_DAY, help="YYYY-MM-DD")
    ap.add_argument("--gzip", action="store_true", help="also write a .gz of every file")
    ap.add_argument("--jobs", type=int, default=2, help="files written in parallel")
    args = ap.parse_args(argv)
    if args.lines < args.files * 100:
        ap.error("--lines must be at least 100 per file")
    for fmt in FORMATS if args.format == "all" else (args.format,):
        if fmt in MIXES[args.mix]:
            generate(
                args.out,
                fmt,
                args.lines,
                args.files,
                args.seed,
                args.gzip,
                args.jobs,
                mix=args.mix,
                first_day=args.first_day,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
