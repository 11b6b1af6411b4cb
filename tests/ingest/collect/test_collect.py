"""``loyaute collect`` as a process, with real senders on loopback: util-linux ``logger`` over
UDP and TCP, Debian's rsyslog forwarding files over TCP, TLS and RELP, files written and rotated
while it runs. The store it leaves always equals a batch ``ingest`` of the same lines."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from loyaute.clock import FixedClock
from loyaute.demo import logs as demo
from loyaute.workspace import Workspace
from tests.builders import local
from tests.ingest.collect.support import (
    DEADLINE,
    IMFILE,
    LOYAUTE,
    OMRELP,
    CollectProcess,
    Rsyslog,
    batch_store,
    count,
    evidence_lines,
    forward_file,
    make_certificates,
    owa_lines,
    set_collect,
    store_of,
    vpn_lines,
    wait_for,
    wait_for_store,
)

pytestmark = pytest.mark.skipif(
    shutil.which("logger") is None or shutil.which("rsyslogd") is None,
    reason="needs util-linux logger and rsyslog (.ci/run installs them)",
)


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOYAUTE), "--home", str(home), "collect", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env={"LOYAUTE_LANG": "en", "PATH": "/usr/bin:/bin"},
        check=False,
    )


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def write(path: Path, lines: list[str], mode: str = "w") -> Path:
    with path.open(mode, encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


# --- refusals -------------------------------------------------------------------------------


def test_a1_refuses_to_start_with_the_gates_reason(home: Path) -> None:
    register = home / "register.toml"
    text = register.read_text(encoding="utf-8")
    register.write_text(re.sub(r'registered_on = "[^"]*"', 'registered_on = ""', text, count=1))
    result = run(home, "--tcp", "127.0.0.1:0")
    assert result.returncode == 1
    assert "collection refused" in result.stderr
    assert "A1" in result.stderr
    assert "ready" not in result.stdout


def test_nothing_to_collect_is_bad_usage(home: Path) -> None:
    result = run(home)
    assert result.returncode == 2
    assert "--tcp" in result.stderr


def test_a_format_not_enabled_is_refused_before_listening(home: Path) -> None:
    result = run(home, "--tcp", "127.0.0.1:0", "--format", "csv")
    assert result.returncode == 1
    assert "not enabled" in result.stderr


def test_metrics_only_on_loopback(home: Path) -> None:
    result = run(home, "--tcp", "127.0.0.1:0", "--metrics", "0.0.0.0:9108")
    assert result.returncode == 2


# --- logger ---------------------------------------------------------------------------------


def logger(port: int, *options: str, file: Path) -> None:
    subprocess.run(
        ["logger", "--server", "127.0.0.1", "--port", str(port), "--size", "65536",
         "-t", "fortigate", *options, "-f", str(file)],
        check=True,
        timeout=DEADLINE,
    )  # fmt: skip


def test_logger_over_udp_tcp_and_octet_counting_equals_a_batch_ingest(
    home: Path, reference: Path, days: list[date], tmp_path: Path, processes: list[object]
) -> None:
    files = [
        write(tmp_path / "udp.log", vpn_lines(days, 60, seed=0)),
        write(tmp_path / "tcp.log", vpn_lines(days, 60, seed=100)),
        write(tmp_path / "octet.log", vpn_lines(days, 60, seed=200)),
    ]
    c = CollectProcess(home, "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0",
                       "--metrics", "127.0.0.1:0", "--commit-every", "0.5")  # fmt: skip
    processes.append(c)
    assert c.out.read_text(encoding="utf-8").count("\n") == 1  # one line when ready
    logger(c.port("udp"), "--udp", "--rfc3164", file=files[0])
    logger(c.port("tcp"), "--tcp", file=files[1])  # RFC 5424 header, newline framing
    logger(c.port("tcp"), "--tcp", "--octet-count", file=files[2])
    wait_for("every line", lambda: count(c, "udp") + count(c, "tcp") == 180)
    metrics = c.metrics()
    assert metrics["loyaute_collect_udp_kernel_drops_total"] == 0
    assert metrics['loyaute_collect_messages_total{transport="udp"}'] == 60
    assert c.stop() == 0
    assert "stopped" in c.stderr()
    assert store_of(home) == batch_store(reference, files)
    with Workspace.open(home, FixedClock(datetime.now(UTC))) as ws:
        status = ws.db.collector.status()
    assert status is not None
    assert status.status["state"] == "stopped"
    assert status.status["lines"] == {"udp": 60, "tcp": 120}


def test_sigint_also_commits_and_exits_0(
    home: Path, reference: Path, days: list[date], tmp_path: Path, processes: list[object]
) -> None:
    file = write(tmp_path / "tcp.log", vpn_lines(days, 20))
    c = CollectProcess(home, "--tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
                       "--commit-every", "3600")  # fmt: skip
    processes.append(c)
    logger(c.port("tcp"), "--tcp", file=file)
    wait_for("the lines", lambda: count(c, "tcp") == 20)
    assert store_of(home) == store_of(reference)  # nothing committed yet: the hour has not passed
    c.proc.send_signal(signal.SIGINT)
    assert c.wait() == 0
    assert store_of(home) == batch_store(reference, [file])


def test_metrics_endpoint(home: Path, processes: list[object]) -> None:
    c = CollectProcess(home, "--udp", "127.0.0.1:0", "--metrics", "127.0.0.1:0")
    processes.append(c)
    base = f"http://127.0.0.1:{c.port('metrics')}"
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    assert "# TYPE loyaute_collect_lines_total counter" in text
    assert 'loyaute_collect_lines_total{transport="udp"} 0' in text
    assert "loyaute_collect_up 1" in text
    with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
        assert r.read() == b"ok\n"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(base + "/", timeout=10)
    assert err.value.code == 404
    err.value.close()
    assert c.stop() == 0


# --- rsyslog --------------------------------------------------------------------------------


def test_rsyslog_forwarding_files_over_tcp_and_tls_equals_a_batch_ingest(
    home: Path, reference: Path, days: list[date], tmp_path: Path, processes: list[object]
) -> None:
    certs = make_certificates(tmp_path / "certs")
    fgt = write(tmp_path / "fgt.log", evidence_lines(days, 600))
    iis = write(tmp_path / "iis.log", owa_lines(days, 40))
    c = CollectProcess(home, "--tcp", "127.0.0.1:0", "--tls", "127.0.0.1:0",
                       "--cert", str(certs["cert"]), "--key", str(certs["key"]),
                       "--metrics", "127.0.0.1:0", "--commit-every", "0.5")  # fmt: skip
    processes.append(c)
    tcp = f'action(type="omfwd" target="127.0.0.1" port="{c.port("tcp")}" protocol="tcp")'
    tls = (
        f'action(type="omfwd" target="127.0.0.1" port="{c.port("tls")}" protocol="tcp" '
        'StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" '
        'StreamDriverPermittedPeers="collect.loyaute.test" TCP_Framing="octet-counted")'
    )
    rs = Rsyslog(
        tmp_path / "rsyslog",
        IMFILE + forward_file(fgt, "fgt", tcp) + forward_file(iis, "iis", tls),
        global_options=f'DefaultNetstreamDriverCAFile="{certs["ca"]}"',
    )
    processes.append(rs)
    wait_for("every line", lambda: count(c, "tcp") == lines(fgt) and count(c, "tls") == 40)
    assert c.metric('loyaute_collect_connections_total{transport="tls"}') >= 1
    assert c.stop() == 0
    assert store_of(home) == batch_store(reference, [fgt, iis])


def relp_action(port: int) -> str:
    return (
        f'action(type="omrelp" target="127.0.0.1" port="{port}" '
        'action.resumeInterval="1" action.resumeRetryCount="-1")'
    )


@pytest.mark.parametrize("how", ["kill -9", "killed inside the store commit"])
def test_relp_after_a_crash_the_store_equals_a_batch_ingest(
    home: Path,
    reference: Path,
    days: list[date],
    tmp_path: Path,
    processes: list[object],
    how: str,
) -> None:
    """RELP messages are acknowledged once committed: killed with messages received and not
    acknowledged (mid-stream, or in the middle of the commit that would have stored them), the
    collector comes back and rsyslog resends them."""
    port = free_tcp_port()
    lines = evidence_lines(days, 4000)
    log = tmp_path / "fgt.log"
    args = ("--relp", f"127.0.0.1:{port}", "--metrics", "127.0.0.1:0", "--commit-every", "1")
    env = {"LOYAUTE_CRASH_AT": "before-switch"} if how != "kill -9" else {}
    c = CollectProcess(home, *args, env=env)
    processes.append(c)
    rs = Rsyslog(
        tmp_path / "rsyslog",
        IMFILE + OMRELP + forward_file(log, "fgt", relp_action(port)),
    )
    processes.append(rs)
    half = len(lines) // 2
    write(log, lines[:half])
    if env:
        assert c.wait() == 137  # died in its first commit of new half-days, before the switch
    else:
        wait_for(
            "messages received and not acknowledged",
            lambda: count(c, "relp") > 200 and c.metric("loyaute_collect_relp_unacknowledged") > 0,
        )
        c.kill()
    write(log, lines[half:], mode="a")
    again = CollectProcess(home, *args)
    processes.append(again)
    expected = batch_store(reference, [log])
    wait_for_store(home, expected, again)
    assert again.stop() == 0
    assert store_of(home) == expected


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tcp_graceful_restart_with_rsyslog_loses_nothing(
    home: Path, reference: Path, days: list[date], tmp_path: Path, processes: list[object]
) -> None:
    """Plain TCP has no acknowledgement; on SIGTERM the collector half-closes each connection
    and reads what was already sent, and rsyslog keeps what it had not sent for the next one."""
    port = free_tcp_port()
    lines = evidence_lines(days, 4000, seed=3)
    log = tmp_path / "fgt.log"
    args = ("--tcp", f"127.0.0.1:{port}", "--metrics", "127.0.0.1:0", "--commit-every", "1")
    c = CollectProcess(home, *args)
    processes.append(c)
    action = (
        f'action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp" '
        'action.resumeInterval="1" action.resumeRetryCount="-1")'
    )
    rs = Rsyslog(tmp_path / "rsyslog", IMFILE + forward_file(log, "fgt", action))
    processes.append(rs)
    half = len(lines) // 2
    write(log, lines[:half])
    wait_for("lines flowing", lambda: count(c, "tcp") > 500)
    assert c.stop() == 0
    write(log, lines[half:], mode="a")
    again = CollectProcess(home, *args)
    processes.append(again)
    expected = batch_store(reference, [log])
    wait_for("the store to equal the batch ingest", lambda: store_of(home) == expected)
    assert again.stop() == 0


# --- UDP loss is counted ------------------------------------------------------------------


def test_udp_datagrams_the_kernel_drops_are_counted(home: Path, processes: list[object]) -> None:
    set_collect(home, udp_receive_buffer_bytes=4096)
    c = CollectProcess(home, "--udp", "127.0.0.1:0", "--metrics", "127.0.0.1:0")
    processes.append(c)
    sent = 300
    c.proc.send_signal(signal.SIGSTOP)  # the collector reads nothing: the socket's queue fills
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(sent):
                s.sendto(b"<13>Mar 23 09:00:00 h t: datagram %d " % i + b"x" * 200,
                         ("127.0.0.1", c.port("udp")))  # fmt: skip
    finally:
        c.proc.send_signal(signal.SIGCONT)

    def accounted() -> bool:
        m = c.metrics()
        received = m['loyaute_collect_messages_total{transport="udp"}']
        return received + m["loyaute_collect_udp_kernel_drops_total"] == sent

    wait_for("every datagram received or counted as dropped", accounted)
    assert c.metric("loyaute_collect_udp_kernel_drops_total") > 0
    assert c.stop() == 0


# --- rule F1: nothing raw is written -------------------------------------------------------


def test_f1_no_raw_line_login_or_url_reaches_the_disk_or_the_output(
    home: Path, days: list[date], tmp_path: Path, processes: list[object]
) -> None:
    """Lines with markers — an unknown login, a URL path, an address, a malformed line — go
    through every path (TCP, UDP, a followed file, RELP-less); afterwards no file of the
    workspace (stores, state, audit, their journals) and nothing the collector printed holds
    any of them."""
    markers = [b"zz.marqueur.vpn", b"zz.marqueur.web", b"/dossier/MARQUEUR-F1", b"203.0.113.77"]
    host = demo.APP_HOSTS["grand-angle"][0]
    lines = [
        demo.fgt_tunnel_up(local(days[0], 9), "zz.marqueur.vpn", 7, "203.0.113.77"),
        demo.proxy_line(
            local(days[1], 10), host, "/dossier/MARQUEUR-F1", "zz.marqueur.web", ip="203.0.113.77"
        ),
        demo.proxy_line(local(days[1], 10), host, "/x", "jdupont", ip="203.0.113.77"),
        'garbage "zz.marqueur.web" 203.0.113.77 /dossier/MARQUEUR-F1',
    ]
    followed = write(tmp_path / "access.log", lines[1:])
    sent = write(tmp_path / "fgt.log", lines[:1] + lines[3:])
    c = CollectProcess(home, "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0",
                       "--follow", str(followed), "--metrics", "127.0.0.1:0",
                       "--commit-every", "0.3")  # fmt: skip
    processes.append(c)
    logger(c.port("tcp"), "--tcp", file=sent)
    logger(c.port("udp"), "--udp", file=sent)
    wait_for("every line", lambda: count(c, "tcp") == 2 and count(c, "udp") == 2
             and count(c, "file") == 3)  # fmt: skip
    assert c.metric("loyaute_collect_commits_total") >= 1
    assert c.stop() == 0
    leaks = []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        leaks += [(str(path.relative_to(home)), m) for m in markers if m in data]
    output = (c.out.read_bytes() + c.err.read_bytes()).lower()
    leaks += [("output", m) for m in markers if m.lower() in output]
    assert leaks == []


def test_bad_input_is_counted_by_reason_and_never_stops_it(
    home: Path, tmp_path: Path, processes: list[object]
) -> None:
    certs = make_certificates(tmp_path / "certs")
    c = CollectProcess(home, "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0",
                       "--tls", "127.0.0.1:0", "--cert", str(certs["cert"]),
                       "--key", str(certs["key"]), "--relp", "127.0.0.1:0",
                       "--metrics", "127.0.0.1:0")  # fmt: skip
    processes.append(c)
    junk = bytes(range(256)) * 8

    def send(port: int, data: bytes) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(10)
            while s.recv(4096):
                pass

    send(c.port("tls"), b"<13>plain text on the TLS port\n")
    send(c.port("relp"), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    send(c.port("tcp"), junk + b"\n" + b"99999 " + b"x" * 10)  # a frame cut short at the end
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(junk[:1000], ("127.0.0.1", c.port("udp")))

    def counted() -> bool:
        m = c.metrics()
        return (
            m.get('loyaute_collect_skipped_total{reason="tls_handshake_failed"}', 0) >= 1
            and m.get('loyaute_collect_skipped_total{reason="bad_frame"}', 0) >= 1
            and m.get('loyaute_collect_skipped_total{reason="truncated_frame"}', 0) >= 1
            and m.get('loyaute_collect_skipped_total{reason="unrecognised_format"}', 0) >= 2
        )

    wait_for("each bad input counted under its reason", counted, timeout=15)
    assert c.proc.poll() is None
    assert c.stop() == 0
