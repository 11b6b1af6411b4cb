"""Log lines in the real formats, for the synthetic Département, tests and benchmarks.

Each writer takes a UTC instant and a login and returns one line shaped like the real thing:
FortiOS 7.x event and traffic lines, Exchange front-end and back-end IIS W3C lines, Apache
``vhost_combined`` lines of the extranet proxy, authentic2 journal rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
DOMAIN_NAME = "LENORD"
DEVICE = 'devname="FGT-CD59-HQ" devid="FG200FTK21900001"'
IIS_FIELDS = (
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
    "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"
)
OUTLOOK_UA = "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.17928;+Pro)"
BROWSER_UA = "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/131.0+Safari/537.36"
PHONE_UA = "Apple-iPhone15C2/2204.100"

APP_HOSTS = {
    "grand-angle": ("grandangle.extranet.lenord.fr", "/ga/engagements/liste"),
    "ines": ("ines.extranet.lenord.fr", "/ines/dossier/consulter"),
    "publik": ("demarches.extranet.lenord.fr", "/backoffice/management/demandes/"),
    "pleiade": ("pleiade.extranet.lenord.fr", "/pleiade/dossier-agent"),
}


def _local(at: datetime) -> datetime:
    return at.astimezone(PARIS)


def _tz(at: datetime) -> str:
    offset = _local(at).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _fgt_head(at: datetime, pri: int) -> str:
    local = _local(at)
    eventtime = int(at.timestamp() * 1_000_000_000)
    return (
        f"<{pri}>date={local:%Y-%m-%d} time={local:%H:%M:%S} {DEVICE} eventtime={eventtime} "
        f'tz="{_tz(at)}"'
    )


def fgt_tunnel_up(at: datetime, user: str, tunnel: int, ip: str) -> str:
    """SSL-VPN tunnel-up (FortiClient tunnel mode)."""
    return (
        f'{_fgt_head(at, 190)} logid="0101039947" type="event" subtype="vpn" level="information" '
        f'vd="root" logdesc="SSL VPN tunnel up" action="tunnel-up" tunneltype="ssl-tunnel" '
        f'tunnelid={tunnel} remip={ip} tunnelip=10.212.134.{tunnel % 250} user="{user}" '
        f'group="GRP-TELETRAVAIL" dst_host="N/A" reason="tunnel established" msg="SSL tunnel established"'
    )


def fgt_tunnel_down(at: datetime, user: str, tunnel: int, ip: str, seconds: int) -> str:
    """SSL-VPN tunnel-down with the session's duration."""
    return (
        f'{_fgt_head(at, 190)} logid="0101039948" type="event" subtype="vpn" level="information" '
        f'vd="root" logdesc="SSL VPN tunnel down" action="tunnel-down" tunneltype="ssl-tunnel" '
        f'tunnelid={tunnel} remip={ip} tunnelip=10.212.134.{tunnel % 250} user="{user}" '
        f'group="GRP-TELETRAVAIL" dst_host="N/A" reason="N/A" duration={seconds} '
        f'sentbyte={seconds * 900} rcvdbyte={seconds * 21000} msg="SSL tunnel shutdown"'
    )


def fgt_login_failure(at: datetime, user: str, ip: str) -> str:
    """A failed SSL-VPN login: never a trace."""
    return (
        f'{_fgt_head(at, 185)} logid="0101039426" type="event" subtype="vpn" level="alert" '
        f'vd="root" logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-web" '
        f'tunnelid=0 remip={ip} tunnelip=(null) user="{user}" group="N/A" dst_host="N/A" '
        f'reason="sslvpn_login_permission_denied" msg="SSL user failed to logged in"'
    )


def fgt_traffic(at: datetime, rng: random.Random) -> str:
    """A forward traffic line: most of what a firewall logs, never a trace."""
    return (
        f'{_fgt_head(at, 189)} logid="0000000013" type="traffic" subtype="forward" level="notice" '
        f'vd="root" srcip=10.20.{rng.randrange(1, 250)}.{rng.randrange(1, 250)} '
        f'srcport={rng.randrange(1024, 65535)} srcintf="port3" srcintfrole="lan" '
        f'dstip=10.0.{rng.randrange(1, 20)}.{rng.randrange(1, 250)} dstport=443 dstintf="port1" '
        f'dstintfrole="wan" sessionid={rng.randrange(1, 10**9)} proto=6 action="close" '
        f'policyid={rng.randrange(1, 90)} policytype="policy" service="HTTPS" trandisp="snat" '
        f"duration={rng.randrange(1, 400)} sentbyte={rng.randrange(100, 90000)} "
        f'rcvdbyte={rng.randrange(100, 900000)} sentpkt=12 rcvdpkt=31 appcat="unscanned"'
    )


def iis_line(
    at: datetime,
    method: str,
    stem: str,
    query: str,
    user: str,
    ua: str,
    status: int = 200,
    taken_ms: int = 25,
    port: int = 443,
    client: str = "10.212.134.20",
) -> str:
    """One Exchange IIS W3C line (times in UTC, as IIS writes them)."""
    utc = at.astimezone(UTC)
    sub, win32 = (1, 2148074254) if status == 401 else (0, 0)
    return (
        f"{utc:%Y-%m-%d %H:%M:%S} 10.0.5.11 {method} {stem} {query or '-'} {port} {user or '-'} "
        f"{client} {ua} - {status} {sub} {win32} {taken_ms}"
    )


def iis_header(day: datetime) -> list[str]:
    """The directive block IIS writes at the top of a file and after each restart."""
    return [
        "#Software: Microsoft Internet Information Services 10.0",
        "#Version: 1.0",
        f"#Date: {day.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
        IIS_FIELDS,
    ]


def proxy_line(
    at: datetime, host: str, path: str, user: str, status: int = 200, ip: str = "198.51.100.20"
) -> str:
    """Apache vhost_combined, as the extranet reverse proxy writes it."""
    local = _local(at)
    stamp = local.strftime("%d/%b/%Y:%H:%M:%S ") + _tz(at)
    return (
        f'{host}:443 {ip} - {user or "-"} [{stamp}] "GET {path} HTTP/1.1" {status} '
        f'{4000 + len(path) * 37} "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"'
    )
