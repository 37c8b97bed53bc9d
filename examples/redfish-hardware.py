#!/usr/bin/env python3
"""Report a server's hardware to metalflow from its Redfish BMC: for hosts nobody can SSH into.

maas-run-scripts reads the hardware on the host itself. This example reads it from the BMC
instead (/redfish/v1/Systems/<id>: Processors, Memory, Storage/Drives or SimpleStorage,
EthernetInterfaces, and the system's DMI-like fields) and posts it as the machine's hardware
with the machine's own token, exactly as `maas-run-scripts report-results` does. Python 3
standard library only; runs anywhere that reaches both the BMC and metalflow.

  # 1. register the server as already deployed (admin API key); writes <hostname>-creds.yaml.
  #    Its identity is the BMC's system UUID, so running it again finds the same machine.
  redfish-hardware.py --bmc https://10.0.0.9 --user admin --password-env BMC_PASSWORD \\
      --register http://metalflow:5240/MAAS "$ADMIN_KEY" --hostname server7
  # 2. later (or from a timer): report the hardware again with the machine's token only
  redfish-hardware.py --bmc https://10.0.0.9 --user admin --password-env BMC_PASSWORD \\
      --config server7-creds.yaml

--insecure accepts a self-signed BMC certificate; --system picks one system of a multi-system
BMC (default: the only one); --dry-run prints the report instead of sending it.
"""
import argparse
import base64
import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.request
import uuid

HARDWARE_FILE = "metalflow-hardware.json"


def die(msg):
    sys.stderr.write("redfish-hardware: %s\n" % msg)
    sys.exit(1)


def loads(text):
    try:
        return json.loads(text)
    except ValueError:
        # Some BMCs (and sushy-emulator's templates) leave a comma before a closing brace.
        return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


class Bmc:
    def __init__(self, url, user, password, insecure):
        self.url = url.rstrip("/")
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.ctx = ssl._create_unverified_context() if insecure else None

    def get(self, path, optional=False):
        req = urllib.request.Request(self.url + path, headers={"Authorization": self.auth, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ctx) as r:
                return loads(r.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            if optional:
                return None  # a collection this BMC does not implement
            die("BMC answered %s for %s" % (e.code, path))
        except (urllib.error.URLError, OSError) as e:
            die("cannot reach the BMC at %s: %s" % (self.url, e))

    def members(self, collection):
        """The members of a linked collection ({"@odata.id": ...}); [] when absent."""
        if not isinstance(collection, dict) or "@odata.id" not in collection:
            return []
        col = self.get(collection["@odata.id"], optional=True) or {}
        return [m for m in (self.get(x["@odata.id"], optional=True) for x in col.get("Members", [])) if m]


def number(value):
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


ARCH = {"x86-64": "amd64", "x86": "i386", "arm-a64": "arm64", "arm-a32": "armhf", "powerisa": "ppc64el"}


def hardware(bmc, system_id):
    if not system_id:
        systems = bmc.get("/redfish/v1/Systems").get("Members", [])
        if len(systems) != 1:
            die("the BMC has %d systems; pick one with --system" % len(systems))
        path = systems[0]["@odata.id"]
    else:
        path = "/redfish/v1/Systems/%s" % system_id
    s = bmc.get(path)

    cpus = [p for p in bmc.members(s.get("Processors")) if p.get("ProcessorType", "CPU") == "CPU"]
    summary = s.get("ProcessorSummary") or {}
    threads = sum(number(p.get("TotalThreads") or p.get("TotalCores")) for p in cpus)
    cpu_count = threads or number(summary.get("LogicalProcessorCount")) or number(summary.get("Count"))
    model = next((p.get("Model") for p in cpus if p.get("Model")), summary.get("Model") or "")
    speed = max([number(p.get("MaxSpeedMHz")) for p in cpus] or [0])
    arch = next((ARCH.get(str(p.get("InstructionSet", "")).lower()) for p in cpus if p.get("InstructionSet")), None)

    dimms = bmc.members(s.get("Memory"))
    memory_mib = sum(number(d.get("CapacityMiB")) for d in dimms if (d.get("Status") or {}).get("State", "Enabled") == "Enabled")
    if not memory_mib:
        memory_mib = int(float((s.get("MemorySummary") or {}).get("TotalSystemMemoryGiB") or 0) * 1024)

    disks = []
    for storage in bmc.members(s.get("Storage")):
        for link in storage.get("Drives", []):
            d = bmc.get(link["@odata.id"], optional=True)
            if d and number(d.get("CapacityBytes")) > 0:
                disks.append({"name": d.get("Id") or d.get("Name", ""), "size_bytes": number(d["CapacityBytes"]),
                              "serial": d.get("SerialNumber") or "", "model": d.get("Model") or ""})
    if not disks:  # older BMCs: SimpleStorage
        for ss in bmc.members(s.get("SimpleStorage")):
            for i, d in enumerate(ss.get("Devices", [])):
                if number(d.get("CapacityBytes")) > 0:
                    disks.append({"name": d.get("Name") or "disk%d" % i, "size_bytes": number(d["CapacityBytes"]),
                                  "serial": d.get("SerialNumber") or "", "model": d.get("Model") or ""})

    nics = []
    for n in bmc.members(s.get("EthernetInterfaces")):
        mac = n.get("PermanentMACAddress") or n.get("MACAddress")
        if mac:
            nics.append({"name": n.get("Id") or n.get("Name", ""), "type": "physical", "mac": mac.lower(),
                         "link_speed_mbps": number(n.get("SpeedMbps"))})

    dmi = {k: str(s[f]) for k, f in [("vendor", "Manufacturer"), ("product", "Model"), ("serial", "SerialNumber"),
                                      ("uuid", "UUID"), ("sku", "SKU"), ("bios_version", "BiosVersion")] if s.get(f)}
    report = {"cpu": {"count": cpu_count, "model": model, "speed_mhz": speed}, "memory_mib": memory_mib,
              "block_devices": disks, "interfaces": nics, "dmi": dmi}
    if arch:
        report["architecture"] = arch
    return s, report


# --- metalflow (MAAS API 2.0, OAuth 1.0 PLAINTEXT as MAAS uses it) --------------------------

def oauth(key):
    parts = key.split(":")
    if len(parts) != 3 or not all(parts):
        die("a key must look like consumer_key:token_key:token_secret")
    ck, tk, ts = parts
    return ('OAuth oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="%s", '
            'oauth_token="%s", oauth_signature="&%s", oauth_nonce="%s", oauth_timestamp="%d"'
            % (ck, tk, ts, uuid.uuid4().hex, time.time()))


def call(method, url, key, fields=None, files=None):
    body, headers = None, {"Authorization": oauth(key)}
    if fields is not None or files:
        boundary = "redfish-hardware-" + uuid.uuid4().hex
        chunks = []
        for name, value in (fields or {}).items():
            for v in value if isinstance(value, list) else [value]:
                chunks.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, name, v)).encode())
        for name, data in (files or {}).items():
            chunks.append(('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: application/json\r\n\r\n'
                           % (boundary, name, name)).encode() + data + b"\r\n")
        body = b"".join(chunks) + ("--%s--\r\n" % boundary).encode()
        headers["Content-Type"] = "multipart/form-data; boundary=" + boundary
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        die("%s %s refused (%s): %s" % (method, url, e.code, e.read().decode("utf-8", "replace")[:2000]))
    except (urllib.error.URLError, OSError) as e:
        die("cannot reach %s: %s" % (url, e))


def base_url(url):
    url = url.rstrip("/")
    if url.endswith("/api/2.0"):
        url = url[: -len("/api/2.0")]
    if not re.match(r"^https?://", url):
        die("MAAS_URL must start with http:// or https://")
    return url


def register(maas_url, api_key, hostname, system, report):
    """Register (or find again) the machine by the BMC's system UUID; write <hostname>-creds.yaml."""
    base = base_url(maas_url)
    ident = (system.get("UUID") or system.get("Id") or "").lower()
    if not ident:
        die("the BMC reports no UUID for this system; cannot give it a stable identity")
    fields = {"deployed": "true", "host_id": "redfish-" + ident, "hostname": hostname,
              "mac_addresses": [n["mac"] for n in report["interfaces"]]}
    if report.get("architecture"):
        fields["architecture"] = report["architecture"]
    machine = json.loads(call("POST", base + "/api/2.0/machines/", api_key, fields))
    token = json.loads(call("GET", base + "/api/2.0/machines/%s/?op=get_token" % machine["system_id"], api_key))
    creds = "%s-creds.yaml" % hostname
    old = os.umask(0o077)
    try:
        with open(creds + ".tmp", "w") as f:
            f.write("reporting:\n  maas:\n    consumer_key: %s\n    token_key: %s\n    token_secret: %s\n    endpoint: %s/metadata/status/%s\n"
                    % (token["consumer_key"], token["token_key"], token["token_secret"], base, machine["system_id"]))
        os.replace(creds + ".tmp", creds)
    finally:
        os.umask(old)
    print("Registered as machine %s (%s); credentials in %s." % (machine["hostname"], machine["system_id"], creds))
    return creds


def read_creds(path):
    try:
        text = open(path).read()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))
    field = lambda k: (re.search(r"^\s*%s:\s*(\S+)\s*$" % k, text, re.M) or die("%s has no %s" % (path, k))).group(1).strip("\"'")
    endpoint = field("endpoint")
    if "/metadata/status/" not in endpoint:
        die("%s has no endpoint .../metadata/status/<system_id>" % path)
    return endpoint.split("/metadata/status/")[0], "%s:%s:%s" % (field("consumer_key"), field("token_key"), field("token_secret"))


def main():
    ap = argparse.ArgumentParser(description="Report a server's hardware to metalflow from its Redfish BMC.")
    ap.add_argument("--bmc", required=True, help="the BMC's URL, e.g. https://10.0.0.9")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", help="the BMC password (visible in ps; prefer --password-env)")
    ap.add_argument("--password-env", help="name of the environment variable holding the BMC password")
    ap.add_argument("--system", help="the Redfish system id (default: the BMC's only system)")
    ap.add_argument("--insecure", action="store_true", help="accept the BMC's self-signed certificate")
    ap.add_argument("--config", help="the machine's CREDS.yaml (as written by --register or maas-run-scripts)")
    ap.add_argument("--register", nargs=2, metavar=("MAAS_URL", "API_KEY"), help="register the server first (admin key)")
    ap.add_argument("--hostname", help="the machine's name with --register (default: the BMC's HostName)")
    ap.add_argument("--dry-run", action="store_true", help="print the report, send nothing")
    a = ap.parse_args()
    password = os.environ.get(a.password_env, "") if a.password_env else a.password
    if password is None:
        die("give the BMC password with --password-env VAR (or --password)")
    if not (a.config or a.register or a.dry_run):
        die("say where to send the report: --config CREDS.yaml or --register MAAS_URL API_KEY (or --dry-run)")

    system, report = hardware(Bmc(a.bmc, a.user, password, a.insecure), a.system)
    if a.dry_run:
        print(json.dumps(report, indent=2))
        return
    config = a.config
    if a.register:
        hostname = a.hostname or (system.get("HostName") or "").split(".")[0].lower()
        if not hostname:
            die("the BMC reports no HostName; give --hostname")
        config = register(a.register[0], a.register[1], hostname, system, report)
    base, key = read_creds(config)
    call("POST", base + "/metadata/2012-03-01/", key, {"op": "signal", "status": "OK"}, {HARDWARE_FILE: json.dumps(report).encode()})
    print("Hardware reported: %d CPUs, %d MiB, %d disks, %d NICs." % (report["cpu"]["count"], report["memory_mib"], len(report["block_devices"]), len(report["interfaces"])))


if __name__ == "__main__":
    main()
