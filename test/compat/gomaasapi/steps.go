package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/juju/gomaasapi/v2"
)

// Capabilities Juju's MAAS provider refuses to work without (network-deployment-ubuntu) or reads.
var requiredCapabilities = []string{"network-deployment-ubuntu", "authenticate-api"}

const pollInterval = 500 * time.Millisecond

// flow is the state one step hands to the next, as Juju's provider keeps it.
type flow struct {
	cfg     config
	ctrl    gomaasapi.Controller
	machine gomaasapi.Machine
	subnet  gomaasapi.Subnet
	device  gomaasapi.Device
}

type result = map[string]any

type step struct {
	name string
	run  func(*flow) (result, error)
}

// The flow in Juju's order (internal/provider/maas: environ's StartInstance, the container
// address allocation of the machine's containers, StopInstances).
var steps = []step{
	{"controller", (*flow).connect},
	{"capabilities", (*flow).capabilities},
	{"zones", (*flow).zones},
	{"spaces", (*flow).spaces},
	{"allocate", (*flow).allocate},
	{"start", (*flow).start},
	{"deployed", (*flow).waitDeployed},
	{"owner_data", (*flow).setOwnerData},
	{"owner_data_filter", (*flow).ownerDataFilter},
	{"agent_name_filter", (*flow).agentNameFilter},
	{"device_create", (*flow).createDevice},
	{"devices", (*flow).devices},
	{"device_delete", (*flow).deleteDevice},
	{"domains", (*flow).domains},
	{"static_routes", (*flow).staticRoutes},
	{"release", (*flow).release},
	{"released", (*flow).waitReleased},
}

func stepNames() []string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.name
	}
	return names
}

func runStep(f *flow, name string) (result, error) {
	for _, s := range steps {
		if s.name != name {
			continue
		}
		// Every step talks through the controller; connecting is the first step's own check.
		if f.ctrl == nil && name != "controller" {
			if _, err := f.connect(); err != nil {
				return nil, fmt.Errorf("connecting for %s: %w", name, err)
			}
		}
		return s.run(f)
	}
	return nil, fmt.Errorf("unknown step %q", name)
}

func (f *flow) needMachine(step string) error {
	if f.machine == nil {
		return fmt.Errorf("%s needs the machine the allocate step returns: run allocate first", step)
	}
	return nil
}

func (f *flow) connect() (result, error) {
	ctrl, err := gomaasapi.NewController(gomaasapi.ControllerArgs{BaseURL: f.cfg.url, APIKey: f.cfg.key})
	if err != nil {
		return nil, fmt.Errorf("NewController: %w", err)
	}
	f.ctrl = ctrl
	version, subversion, err := ctrl.APIVersionInfo()
	if err != nil {
		return nil, fmt.Errorf("APIVersionInfo: %w", err)
	}
	return result{"version": version, "subversion": subversion}, nil
}

func (f *flow) capabilities() (result, error) {
	caps := f.ctrl.Capabilities()
	for _, want := range requiredCapabilities {
		if !caps.Contains(want) {
			return nil, fmt.Errorf("capabilities %v lack %q, which Juju requires", caps.SortedValues(), want)
		}
	}
	return result{"capabilities": caps.SortedValues()}, nil
}

func (f *flow) zones() (result, error) {
	zones, err := f.ctrl.Zones()
	if err != nil {
		return nil, fmt.Errorf("Zones: %w", err)
	}
	var names []string
	for _, z := range zones {
		names = append(names, z.Name())
	}
	if !contains(names, f.cfg.zone) {
		return nil, fmt.Errorf("Zones() = %v, which lacks %q", names, f.cfg.zone)
	}
	return result{"zones": names}, nil
}

func (f *flow) spaces() (result, error) {
	spaces, err := f.ctrl.Spaces()
	if err != nil {
		return nil, fmt.Errorf("Spaces: %w", err)
	}
	var names []string
	var wanted gomaasapi.Space
	for _, s := range spaces {
		names = append(names, s.Name())
		if s.Name() == f.cfg.space {
			wanted = s
		}
	}
	if f.cfg.space == "" {
		return result{"spaces": names}, nil
	}
	if wanted == nil {
		return nil, fmt.Errorf("Spaces() = %v, which lacks %q", names, f.cfg.space)
	}
	subnets := wanted.Subnets()
	if len(subnets) == 0 {
		return nil, fmt.Errorf("space %q has no subnets", f.cfg.space)
	}
	f.subnet = subnets[0]
	if f.subnet.Space() != f.cfg.space {
		return nil, fmt.Errorf("subnet %s of space %q says its space is %q", f.subnet.CIDR(), f.cfg.space, f.subnet.Space())
	}
	if f.subnet.VLAN() == nil {
		return nil, fmt.Errorf("subnet %s of space %q has no VLAN", f.subnet.CIDR(), f.cfg.space)
	}
	return result{
		"spaces":      names,
		"space_id":    wanted.ID(),
		"subnet":      f.subnet.CIDR(),
		"subnet_id":   f.subnet.ID(),
		"vlan_vid":    f.subnet.VLAN().VID(),
		"vlan_fabric": f.subnet.VLAN().Fabric(),
	}, nil
}

func (f *flow) allocate() (result, error) {
	args := gomaasapi.AllocateMachineArgs{
		AgentName:   f.cfg.agentName,
		Zone:        f.cfg.zone,
		MinCPUCount: f.cfg.minCPU,
		MinMemory:   f.cfg.minMem,
		Tags:        f.cfg.tags,
	}
	if f.cfg.space != "" {
		args.Interfaces = []gomaasapi.InterfaceSpec{{Label: "0", Space: f.cfg.space}}
	}
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("AllocateMachineArgs: %w", err)
	}
	machine, matches, err := f.ctrl.AllocateMachine(args)
	if err != nil {
		return nil, fmt.Errorf("AllocateMachine: %w", err)
	}
	f.machine = machine
	if f.cfg.expectMachineID != "" && machine.SystemID() != f.cfg.expectMachineID {
		return nil, fmt.Errorf("allocated %s, expected %s", machine.SystemID(), f.cfg.expectMachineID)
	}
	if machine.StatusName() != "Allocated" {
		return nil, fmt.Errorf("allocated machine %s is %q, expected Allocated", machine.SystemID(), machine.StatusName())
	}
	if z := machine.Zone(); z == nil || z.Name() != f.cfg.zone {
		return nil, fmt.Errorf("allocated machine %s is not in zone %q", machine.SystemID(), f.cfg.zone)
	}
	if machine.CPUCount() < f.cfg.minCPU || machine.Memory() < f.cfg.minMem {
		return nil, fmt.Errorf("allocated machine %s has %d CPUs and %d MiB, asked for at least %d and %d",
			machine.SystemID(), machine.CPUCount(), machine.Memory(), f.cfg.minCPU, f.cfg.minMem)
	}
	for _, tag := range f.cfg.tags {
		if !contains(machine.Tags(), tag) {
			return nil, fmt.Errorf("allocated machine %s has tags %v, lacking %q", machine.SystemID(), machine.Tags(), tag)
		}
	}
	out := result{"system_id": machine.SystemID(), "status": machine.StatusName(), "hostname": machine.Hostname(), "fqdn": machine.FQDN()}
	if f.cfg.space != "" {
		// Juju reads which interface satisfied each interface constraint from the reply.
		matched := matches.Interfaces["0"]
		if len(matched) == 0 {
			return nil, fmt.Errorf("constraints_by_type names no interface for label 0 (space %q): %v", f.cfg.space, matches.Interfaces)
		}
		var names []string
		for _, iface := range matched {
			names = append(names, iface.Name())
		}
		out["interfaces_matched"] = names
	}
	return out, nil
}

// juju's MAAS renderer sends cloud-init user data gzipped, then base64-encoded.
func encodeUserData(s string) (string, error) {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write([]byte(s)); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func (f *flow) start() (result, error) {
	if err := f.needMachine("start"); err != nil {
		return nil, err
	}
	userData, err := encodeUserData(f.cfg.userData)
	if err != nil {
		return nil, err
	}
	if err := f.machine.Start(gomaasapi.StartArgs{UserData: userData, DistroSeries: f.cfg.distroSeries}); err != nil {
		return nil, fmt.Errorf("Start: %w", err)
	}
	status := f.machine.StatusName()
	if status != "Deploying" && status != "Deployed" {
		return nil, fmt.Errorf("after Start the machine is %q, expected Deploying", status)
	}
	return result{"status": status}, nil
}

// poll re-reads the machine the way Juju's provider waits for it (machines/?id=…&agent_name=…)
// until its status is `want`; a status outside `passing` fails at once.
func (f *flow) poll(want string, passing []string, timeout time.Duration) (gomaasapi.Machine, []string, error) {
	deadline := time.Now().Add(timeout)
	var seen []string
	for {
		machines, err := f.ctrl.Machines(gomaasapi.MachinesArgs{
			SystemIDs: []string{f.machine.SystemID()},
			AgentName: f.agentNameWhileOwned(want),
		})
		if err != nil {
			return nil, seen, fmt.Errorf("Machines: %w", err)
		}
		if len(machines) != 1 || machines[0].SystemID() != f.machine.SystemID() {
			return nil, seen, fmt.Errorf("Machines(id=%s) returned %d machines %v", f.machine.SystemID(), len(machines), systemIDs(machines))
		}
		m := machines[0]
		if len(seen) == 0 || seen[len(seen)-1] != m.StatusName() {
			seen = append(seen, m.StatusName())
		}
		if m.StatusName() == want {
			return m, seen, nil
		}
		if !contains(passing, m.StatusName()) {
			return nil, seen, fmt.Errorf("machine %s reached %q (%q), expected %q; seen %v", m.SystemID(), m.StatusName(), m.StatusMessage(), want, seen)
		}
		if time.Now().After(deadline) {
			return nil, seen, fmt.Errorf("machine %s is still %q after %s, expected %q; seen %v", m.SystemID(), m.StatusName(), timeout, want, seen)
		}
		time.Sleep(pollInterval)
	}
}

// A released machine has no agent_name any more, so waiting for Ready cannot filter by it.
func (f *flow) agentNameWhileOwned(want string) string {
	if want == "Ready" {
		return ""
	}
	return f.cfg.agentName
}

func (f *flow) waitDeployed() (result, error) {
	if err := f.needMachine("deployed"); err != nil {
		return nil, err
	}
	m, seen, err := f.poll("Deployed", []string{"Allocated", "Deploying"}, f.cfg.deployTimeout)
	if err != nil {
		return nil, err
	}
	f.machine = m
	return result{"status": m.StatusName(), "seen": seen, "osystem": m.OperatingSystem(), "distro_series": m.DistroSeries()}, nil
}

func (f *flow) setOwnerData() (result, error) {
	if err := f.needMachine("owner_data"); err != nil {
		return nil, err
	}
	if err := f.machine.SetOwnerData(f.cfg.ownerData); err != nil {
		return nil, fmt.Errorf("SetOwnerData: %w", err)
	}
	got := f.machine.OwnerData()
	for k, v := range f.cfg.ownerData {
		if got[k] != v {
			return nil, fmt.Errorf("after SetOwnerData owner_data is %v, expected %s=%q", got, k, v)
		}
	}
	return result{"owner_data": got}, nil
}

func (f *flow) ownerDataFilter() (result, error) {
	if err := f.needMachine("owner_data_filter"); err != nil {
		return nil, err
	}
	machines, err := f.ctrl.Machines(gomaasapi.MachinesArgs{AgentName: f.cfg.agentName, OwnerData: f.cfg.ownerData})
	if err != nil {
		return nil, fmt.Errorf("Machines(owner data): %w", err)
	}
	ids := systemIDs(machines)
	if len(ids) != 1 || ids[0] != f.machine.SystemID() {
		return nil, fmt.Errorf("Machines(agent_name, owner data %v) = %v, expected only %s", f.cfg.ownerData, ids, f.machine.SystemID())
	}
	return result{"system_ids": ids, "owner_data": machines[0].OwnerData()}, nil
}

// Juju lists its model's instances with agent_name alone: another agent's machines, or
// unallocated ones, must not appear.
func (f *flow) agentNameFilter() (result, error) {
	if err := f.needMachine("agent_name_filter"); err != nil {
		return nil, err
	}
	mine, err := f.ctrl.Machines(gomaasapi.MachinesArgs{AgentName: f.cfg.agentName})
	if err != nil {
		return nil, fmt.Errorf("Machines(agent_name): %w", err)
	}
	ids := systemIDs(mine)
	if len(ids) != 1 || ids[0] != f.machine.SystemID() {
		return nil, fmt.Errorf("Machines(agent_name=%s) = %v, expected only %s", f.cfg.agentName, ids, f.machine.SystemID())
	}
	other, err := f.ctrl.Machines(gomaasapi.MachinesArgs{AgentName: f.cfg.agentName + "-other"})
	if err != nil {
		return nil, fmt.Errorf("Machines(agent_name other): %w", err)
	}
	if len(other) != 0 {
		return nil, fmt.Errorf("Machines(agent_name=%s-other) = %v, expected none", f.cfg.agentName, systemIDs(other))
	}
	return result{"system_ids": ids}, nil
}

// createDevice does what Juju does for a container's addresses: a device whose parent is the
// machine, its first NIC renamed and put on the subnet's VLAN and given a static address there;
// each further NIC created on the VLAN and linked to the subnet; then the device re-read.
func (f *flow) createDevice() (result, error) {
	if err := f.needMachine("device_create"); err != nil {
		return nil, err
	}
	if f.subnet == nil {
		return nil, fmt.Errorf("device_create needs the subnet of -space that the spaces step finds")
	}
	if len(f.cfg.deviceMACs) == 0 {
		return nil, fmt.Errorf("-device-macs is empty")
	}
	device, err := f.machine.CreateDevice(gomaasapi.CreateMachineDeviceArgs{
		Hostname:      f.cfg.deviceHostname,
		InterfaceName: "eth0",
		MACAddress:    f.cfg.deviceMACs[0],
		Subnet:        f.subnet,
	})
	if err != nil {
		return nil, fmt.Errorf("CreateDevice: %w", err)
	}
	f.device = device
	if device.Parent() != f.machine.SystemID() {
		return nil, fmt.Errorf("device %s has parent %q, expected %s", device.SystemID(), device.Parent(), f.machine.SystemID())
	}
	for i, mac := range f.cfg.deviceMACs[1:] {
		iface, err := device.CreateInterface(gomaasapi.CreateInterfaceArgs{
			Name:       fmt.Sprintf("eth%d", i+1),
			MACAddress: mac,
			VLAN:       f.subnet.VLAN(),
		})
		if err != nil {
			return nil, fmt.Errorf("CreateInterface eth%d: %w", i+1, err)
		}
		if err := iface.LinkSubnet(gomaasapi.LinkSubnetArgs{Mode: gomaasapi.LinkModeStatic, Subnet: f.subnet}); err != nil {
			return nil, fmt.Errorf("LinkSubnet eth%d: %w", i+1, err)
		}
	}
	// Juju re-reads the device to learn the addresses MAAS gave its interfaces.
	devices, err := f.machine.Devices(gomaasapi.DevicesArgs{SystemIDs: []string{device.SystemID()}})
	if err != nil {
		return nil, fmt.Errorf("machine.Devices: %w", err)
	}
	if len(devices) != 1 {
		return nil, fmt.Errorf("machine.Devices(id=%s) returned %d devices", device.SystemID(), len(devices))
	}
	f.device = devices[0]
	addresses, err := f.deviceAddresses(f.device)
	if err != nil {
		return nil, err
	}
	return result{"system_id": f.device.SystemID(), "hostname": f.device.Hostname(), "parent": f.device.Parent(), "addresses": addresses}, nil
}

// deviceAddresses checks that each of the device's interfaces has its MAC, the subnet's VLAN and
// a static address inside the subnet, and returns them by interface name.
func (f *flow) deviceAddresses(device gomaasapi.Device) (map[string]string, error) {
	ifaces := device.InterfaceSet()
	if len(ifaces) != len(f.cfg.deviceMACs) {
		return nil, fmt.Errorf("device %s has %d interfaces, expected %d", device.SystemID(), len(ifaces), len(f.cfg.deviceMACs))
	}
	_, cidr, err := net.ParseCIDR(f.subnet.CIDR())
	if err != nil {
		return nil, fmt.Errorf("subnet CIDR %q: %w", f.subnet.CIDR(), err)
	}
	addresses := map[string]string{}
	for _, iface := range ifaces {
		if !contains(f.cfg.deviceMACs, iface.MACAddress()) {
			return nil, fmt.Errorf("device interface %s has MAC %q, not one of %v", iface.Name(), iface.MACAddress(), f.cfg.deviceMACs)
		}
		if iface.VLAN() == nil || iface.VLAN().ID() != f.subnet.VLAN().ID() {
			return nil, fmt.Errorf("device interface %s is not on VLAN %d", iface.Name(), f.subnet.VLAN().ID())
		}
		var ip string
		for _, link := range iface.Links() {
			if link.Subnet() != nil && link.Subnet().ID() == f.subnet.ID() && link.Mode() == "static" {
				ip = link.IPAddress()
			}
		}
		if parsed := net.ParseIP(ip); parsed == nil || !cidr.Contains(parsed) {
			return nil, fmt.Errorf("device interface %s has no static address in %s (links: %d)", iface.Name(), f.subnet.CIDR(), len(iface.Links()))
		}
		addresses[iface.Name()] = ip
	}
	if len(addresses) != len(ifaces) {
		return nil, fmt.Errorf("device interfaces share names: %v", addresses)
	}
	return addresses, nil
}

// devices finds the container's device the way Juju does when it releases a container's
// addresses: by its MACs.
func (f *flow) devices() (result, error) {
	if f.device == nil {
		return nil, fmt.Errorf("devices needs the device the device_create step makes")
	}
	found, err := f.ctrl.Devices(gomaasapi.DevicesArgs{MACAddresses: f.cfg.deviceMACs[:1]})
	if err != nil {
		return nil, fmt.Errorf("Devices(mac_address): %w", err)
	}
	if len(found) != 1 || found[0].SystemID() != f.device.SystemID() {
		return nil, fmt.Errorf("Devices(mac_address=%s) returned %d devices, expected only %s", f.cfg.deviceMACs[0], len(found), f.device.SystemID())
	}
	if found[0].Parent() != f.machine.SystemID() {
		return nil, fmt.Errorf("device %s has parent %q, expected %s", found[0].SystemID(), found[0].Parent(), f.machine.SystemID())
	}
	return result{"system_id": found[0].SystemID(), "parent": found[0].Parent(), "ip_addresses": found[0].IPAddresses()}, nil
}

func (f *flow) deleteDevice() (result, error) {
	if f.device == nil {
		return nil, fmt.Errorf("device_delete needs the device the device_create step makes")
	}
	if err := f.device.Delete(); err != nil {
		return nil, fmt.Errorf("device Delete: %w", err)
	}
	left, err := f.ctrl.Devices(gomaasapi.DevicesArgs{SystemIDs: []string{f.device.SystemID()}})
	if err != nil {
		return nil, fmt.Errorf("Devices after Delete: %w", err)
	}
	if len(left) != 0 {
		return nil, fmt.Errorf("device %s is still listed after Delete", f.device.SystemID())
	}
	return result{"deleted": f.device.SystemID()}, nil
}

func (f *flow) domains() (result, error) {
	domains, err := f.ctrl.Domains()
	if err != nil {
		return nil, fmt.Errorf("Domains: %w", err)
	}
	var names []string
	for _, d := range domains {
		names = append(names, d.Name())
	}
	if !contains(names, f.cfg.domain) {
		return nil, fmt.Errorf("Domains() = %v, which lacks %q", names, f.cfg.domain)
	}
	return result{"domains": names}, nil
}

func (f *flow) staticRoutes() (result, error) {
	routes, err := f.ctrl.StaticRoutes()
	if err != nil {
		return nil, fmt.Errorf("StaticRoutes: %w", err)
	}
	var gateways []string
	for _, r := range routes {
		if r.Source() == nil || r.Destination() == nil {
			return nil, fmt.Errorf("static route via %s lacks its source or destination subnet", r.GatewayIP())
		}
		gateways = append(gateways, r.GatewayIP())
	}
	if f.cfg.staticRouteGW != "" && !contains(gateways, f.cfg.staticRouteGW) {
		return nil, fmt.Errorf("StaticRoutes() gateways %v lack %s", gateways, f.cfg.staticRouteGW)
	}
	return result{"gateways": gateways}, nil
}

func (f *flow) release() (result, error) {
	if err := f.needMachine("release"); err != nil {
		return nil, err
	}
	err := f.ctrl.ReleaseMachines(gomaasapi.ReleaseMachinesArgs{
		SystemIDs: []string{f.machine.SystemID()},
		Comment:   f.cfg.releaseComment,
	})
	if err != nil {
		return nil, fmt.Errorf("ReleaseMachines: %w", err)
	}
	return result{"system_ids": []string{f.machine.SystemID()}}, nil
}

func (f *flow) waitReleased() (result, error) {
	if err := f.needMachine("released"); err != nil {
		return nil, err
	}
	m, seen, err := f.poll("Ready", []string{"Deployed", "Releasing", "Disk erasing"}, f.cfg.releaseTimeout)
	if err != nil {
		return nil, err
	}
	return result{"status": m.StatusName(), "seen": seen, "owner_data": m.OwnerData()}, nil
}

func systemIDs(machines []gomaasapi.Machine) []string {
	ids := make([]string, len(machines))
	for i, m := range machines {
		ids[i] = m.SystemID()
	}
	sort.Strings(ids)
	return ids
}

func contains(list []string, want string) bool {
	for _, v := range list {
		if v == want {
			return true
		}
	}
	return false
}
