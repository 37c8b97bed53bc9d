"""An operator's flow through python-libmaas (the unmodified MAAS client library) against a MAAS
API: describe, whoami, version, create (an admin's machine is commissioned automatically),
allocate with constraints, deploy, release, and an allocation nothing can satisfy (HTTP 409, which
libmaas raises as MachineNotFound).

    python libmaas_flow.py http://HOST:PORT/MAAS/ CONSUMER:TOKEN:SECRET

Prints one JSON line per step, {"step": NAME, "ok": true, ...} or {"step": NAME, "ok": false,
"error": ..., "traceback": ...}, then a summary line {"step": "summary", "ok": ..., "failed": [...]}.
Exits 0 only when every step passed. A failing step of the machine's life cycle ends the flow (the
next ones depend on it); a failing check-only step (power_parameters, inspect) is reported and the
flow goes on, so one run shows every gap.

Only what python-libmaas exposes is used: when the server differs from MAAS, the failure IS the
incompatibility, never something to work around here.
"""

import json
import random
import sys
import time
import traceback
import warnings

# libmaas 0.6.8 calls asyncio.get_event_loop() with no running loop and passes verify_ssl= to
# aiohttp: both only warn (DeprecationWarning) on Python 3.11. Keep them out of the step output.
warnings.simplefilter("ignore", DeprecationWarning)

from maas.client import connect  # noqa: E402
from maas.client.bones import SessionAPI  # noqa: E402
from maas.client.enum import NodeStatus  # noqa: E402
from maas.client.utils import api_url  # noqa: E402
from maas.client.utils.creds import Credentials  # noqa: E402
from maas.client.viscera.machines import MachineNotFound  # noqa: E402

POLL_SECONDS = 0.5
TIMEOUT_SECONDS = 120

# Handlers (bones names) and actions the flow and the facade's `client.machines` rely on.
REQUIRED_ACTIONS = {
    "Machines": {"read", "create", "allocate", "power_parameters"},
    "Machine": {"read", "deploy", "release", "commission", "power_parameters", "query_power_state"},
    "Users": {"whoami"},
    "Version": {"read"},
}


class StepFailed(Exception):
    pass


def emit(record):
    print(json.dumps(record, sort_keys=True, default=str), flush=True)


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def wait_for(client, system_id, status, passing):
    """Re-read the machine (client.machines.get) until it reaches `status`; a status that is
    neither `status` nor one of `passing` (e.g. FAILED_COMMISSIONING) fails at once."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    seen = []
    while True:
        machine = client.machines.get(system_id)
        if not seen or seen[-1] != machine.status.name:
            seen.append(machine.status.name)
        if machine.status == status:
            return machine, seen
        if machine.status not in passing:
            raise StepFailed(
                "%s reached %s (%r), expected %s; statuses seen: %s"
                % (system_id, machine.status_name, machine.status_message, status.name, seen)
            )
        if time.monotonic() > deadline:
            raise StepFailed("%s is still %s after %ss, expected %s; statuses seen: %s" % (system_id, machine.status_name, TIMEOUT_SECONDS, status.name, seen))
        time.sleep(POLL_SECONDS)


def read_attributes(label, obj, names):
    """Read attributes through libmaas's object fields; return (values, missing)."""
    values, missing = {}, []
    for name in names:
        try:
            values[name] = getattr(obj, name)
        except Exception as error:  # libmaas raises AttributeError(json key) for an absent field
            missing.append("%s.%s (%s: %s)" % (label, name, type(error).__name__, error))
    return values, missing


def run(url, apikey):
    suffix = "%06x" % random.randrange(1 << 24)
    hostname = "libmaas-" + suffix
    mac = "52:54:00:%02x:%02x:%02x" % tuple(random.randrange(256) for _ in range(3))
    state = {}

    def describe():
        session = SessionAPI.fromURL(api_url(url), credentials=Credentials.parse(apikey))
        handlers = {name: sorted(action for action, _ in handler.actions) for name, handler in session.handlers}
        anonymous = SessionAPI.fromURL(api_url(url))
        missing = sorted(
            "%s.%s" % (handler, action)
            for handler, actions in REQUIRED_ACTIONS.items()
            for action in actions
            if action not in handlers.get(handler, [])
        )
        check(not missing, "describe/ lacks handler actions: %s" % missing)
        return {"handlers": sorted(handlers), "anonymous_handlers": sorted(name for name, _ in anonymous.handlers), "actions": handlers}

    def connect_():
        state["client"] = connect(url, apikey=apikey)
        return {"url": url}

    def whoami():
        me = state["client"].users.whoami()
        check(me.username == "admin", "whoami returned %r" % me.username)
        check(me.is_admin is True, "whoami: %r is not is_admin" % me.username)
        return {"username": me.username, "email": me.email, "is_admin": me.is_admin}

    def version():
        v = state["client"].version.get()
        check(bool(v.version), "no version")
        return {"version": v.version, "subversion": v.subversion, "capabilities": sorted(v.capabilities)}

    def create():
        machine = state["client"].machines.create(
            architecture="amd64/generic",
            mac_addresses=[mac],
            power_type="fake",
            power_parameters={"fake_delay_ms": "100"},
            hostname=hostname,
        )
        state["system_id"] = machine.system_id
        check(machine.hostname == hostname, "created hostname %r, sent %r" % (machine.hostname, hostname))
        check(machine.architecture == "amd64/generic", "created architecture %r" % machine.architecture)
        check(machine.power_type == "fake", "created power_type %r" % machine.power_type)
        check(machine.status in (NodeStatus.NEW, NodeStatus.COMMISSIONING), "created machine is %s, not commissioning" % machine.status_name)
        return {"system_id": machine.system_id, "hostname": machine.hostname, "status": machine.status.name}

    def power_parameters():
        params = state["client"].machines.get_power_parameters_for([state["system_id"]])
        got = params.get(state["system_id"])
        check(
            isinstance(got, dict) and got.get("fake_delay_ms") == "100",
            "machines.create(power_parameters={'fake_delay_ms': '100'}) (sent as power_parameters=<JSON>) "
            "was not stored: power_parameters of %s are %r" % (state["system_id"], got),
        )
        return {"system_id": state["system_id"], "power_parameters": got}

    def commissioned():
        machine, seen = wait_for(state["client"], state["system_id"], NodeStatus.READY, (NodeStatus.NEW, NodeStatus.COMMISSIONING, NodeStatus.TESTING))
        check(machine.cpus > 0, "commissioned machine has cpu_count %r" % machine.cpus)
        check(machine.memory > 0, "commissioned machine has memory %r" % machine.memory)
        check(machine.owner is None, "a READY machine is owned by %r" % machine.owner)
        state["cpus"], state["memory"] = machine.cpus, machine.memory
        return {"system_id": machine.system_id, "status": machine.status.name, "statuses": seen, "cpus": machine.cpus, "memory": machine.memory}

    def inspect():
        """What an operator's inventory tooling reads of a commissioned machine."""
        machine = state["client"].machines.get(state["system_id"])
        values, missing = read_attributes("Machine", machine, [
            "fqdn", "domain", "zone", "pool", "power_state", "tags", "ip_addresses", "boot_interface",
            "boot_disk", "interfaces", "block_devices", "disable_ipv4", "hwe_kernel", "min_hwe_kernel", "netboot", "locked",
        ])
        for nic in values.get("interfaces", []):
            missing += read_attributes("Interface", nic, ["id", "name", "type", "mac_address", "enabled", "effective_mtu", "params", "tags", "vlan", "links", "node"])[1]
        for disk in values.get("block_devices", []):
            # Not uuid nor partition_table_type: MAAS itself sends null for them on a physical disk
            # without a partition table, and libmaas 0.6.8 fails on that null (check(str), to(enum)).
            missing += read_attributes("BlockDevice", disk, [
                "id", "name", "type", "model", "serial", "id_path", "size", "block_size", "tags",
                "available_size", "used_size", "used_for", "partitions", "filesystem", "node",
            ])[1]
        check(not missing, "fields libmaas reads are absent from the machine JSON: %s" % missing)
        return {
            "fqdn": values["fqdn"], "zone": values["zone"].name, "pool": values["pool"].name, "domain": values["domain"].name,
            "power_state": values["power_state"].value, "interfaces": [n.mac_address for n in values["interfaces"]],
            "block_devices": [d.name for d in values["block_devices"]], "boot_disk": getattr(values["boot_disk"], "name", None),
        }

    def list_():
        ids = [m.system_id for m in state["client"].machines.list()]
        check(state["system_id"] in ids, "machines.list() lacks %s: %r" % (state["system_id"], ids))
        only = [m.system_id for m in state["client"].machines.list(hostnames=[hostname])]
        check(only == [state["system_id"]], "machines.list(hostnames=[%r]) returned %r" % (hostname, only))
        return {"count": len(ids), "by_hostname": only}

    def allocate():
        machine = state["client"].machines.allocate(hostname=hostname, cpus=state["cpus"], memory=state["memory"])
        check(machine.system_id == state["system_id"], "allocated %s, expected %s" % (machine.system_id, state["system_id"]))
        check(machine.status == NodeStatus.ALLOCATED, "allocated machine is %s" % machine.status_name)
        check(machine.owner is not None and machine.owner.username == "admin", "allocated machine's owner is %r" % machine.owner)
        state["machine"] = machine
        return {"system_id": machine.system_id, "status": machine.status.name, "owner": machine.owner.username}

    def deploy():
        machine = state["machine"].deploy(distro_series="jammy")
        check(machine.status in (NodeStatus.DEPLOYING, NodeStatus.DEPLOYED), "deploy answered %s" % machine.status_name)
        return {"system_id": machine.system_id, "status": machine.status.name}

    def deployed():
        machine, seen = wait_for(state["client"], state["system_id"], NodeStatus.DEPLOYED, (NodeStatus.ALLOCATED, NodeStatus.DEPLOYING))
        check(machine.osystem == "ubuntu", "deployed osystem %r" % machine.osystem)
        check(machine.distro_series == "jammy", "deployed distro_series %r" % machine.distro_series)
        check(machine.owner is not None and machine.owner.username == "admin", "deployed machine's owner is %r" % machine.owner)
        state["machine"] = machine
        return {"system_id": machine.system_id, "status": machine.status.name, "statuses": seen, "osystem": machine.osystem, "distro_series": machine.distro_series}

    def release():
        machine = state["machine"].release(comment="libmaas flow done")
        check(machine.status in (NodeStatus.RELEASING, NodeStatus.DISK_ERASING, NodeStatus.READY), "release answered %s" % machine.status_name)
        return {"system_id": machine.system_id, "status": machine.status.name}

    def released():
        machine, seen = wait_for(state["client"], state["system_id"], NodeStatus.READY, (NodeStatus.DEPLOYED, NodeStatus.RELEASING, NodeStatus.DISK_ERASING))
        check(machine.owner is None, "released machine still owned by %r" % machine.owner)
        return {"system_id": machine.system_id, "status": machine.status.name, "statuses": seen}

    def allocate_impossible():
        try:
            machine = state["client"].machines.allocate(cpus=4096, memory=16 * 1024 * 1024)
        except MachineNotFound as error:
            cause = error.__cause__
            return {"error": type(error).__name__, "status": getattr(cause, "status", None), "message": str(error)}
        raise StepFailed("allocating 4096 cpus and 16 TiB succeeded: %s" % machine.system_id)

    # (name, function, whether a failure ends the flow)
    steps = [
        ("describe", describe, False),
        ("connect", connect_, True),
        ("whoami", whoami, False),
        ("version", version, False),
        ("create", create, True),
        ("power_parameters", power_parameters, False),
        ("commissioned", commissioned, True),
        ("inspect", inspect, False),
        ("list", list_, False),
        ("allocate", allocate, True),
        ("deploy", deploy, True),
        ("deployed", deployed, True),
        ("release", release, True),
        ("released", released, True),
        ("allocate_impossible", allocate_impossible, False),
    ]
    failed, not_run = [], []
    for index, (name, step, ends_flow) in enumerate(steps):
        try:
            emit({"step": name, "ok": True, **step()})
            continue
        except StepFailed as error:
            emit({"step": name, "ok": False, "error": str(error), "traceback": None})
        except Exception as error:  # raised inside libmaas: the incompatibility itself
            emit({"step": name, "ok": False, "error": "%s: %s" % (type(error).__name__, error), "traceback": traceback.format_exc()})
        failed.append(name)
        if ends_flow:
            not_run = [later for later, _, _ in steps[index + 1:]]
            break
    emit({"step": "summary", "ok": not failed, "failed": failed, "not_run": not_run})
    return 0 if not failed else 1


def main(argv):
    if len(argv) != 3:
        print("usage: libmaas_flow.py MAAS_URL API_KEY", file=sys.stderr)
        return 2
    return run(argv[1], argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
