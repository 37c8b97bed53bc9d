// Command gomaasapi-flow drives a MAAS API through Juju's MAAS provider library,
// github.com/juju/gomaasapi/v2, unmodified, in the order Juju's provider calls it: connect (version/
// and capabilities, whoami), zones, spaces, allocate with constraints and an agent name, start with
// user data, wait for Deployed, owner data, a device for a container with its interfaces and
// addresses, domains, static routes, release.
//
//	gomaasapi-flow -url http://HOST:PORT/MAAS/ -key CONSUMER:TOKEN:SECRET [-steps a,b,…] [flags]
//
// (or MAAS_URL / MAAS_API_KEY). It prints one JSON line per step, {"step": NAME, "ok": true, …},
// and stops at the first wrong result with {"step": NAME, "ok": false, "error": …} and exit code 1.
// Only what gomaasapi exposes is used: a difference from MAAS is the failure, never worked around.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// config is what the caller set up (the machine to expect, the space, …) and how to connect.
type config struct {
	url, key        string
	agentName       string
	zone            string
	space           string
	tags            []string
	minCPU, minMem  int
	distroSeries    string
	userData        string
	ownerData       map[string]string
	deviceHostname  string
	deviceMACs      []string
	domain          string
	staticRouteGW   string
	releaseComment  string
	deployTimeout   time.Duration
	releaseTimeout  time.Duration
	expectMachineID string
}

func parseFlags() (config, []string, error) {
	var c config
	var tags, ownerData, macs, steps string
	flag.StringVar(&c.url, "url", os.Getenv("MAAS_URL"), "MAAS URL, e.g. http://127.0.0.1:5240/MAAS/ (env MAAS_URL)")
	flag.StringVar(&c.key, "key", os.Getenv("MAAS_API_KEY"), "API key consumer:token:secret (env MAAS_API_KEY)")
	flag.StringVar(&steps, "steps", "all", "comma-separated steps to run, in the flow's order (all: "+strings.Join(stepNames(), ",")+")")
	flag.StringVar(&c.agentName, "agent-name", "juju-model-uuid", "agent_name to allocate with (Juju: the model UUID)")
	flag.StringVar(&c.zone, "zone", "default", "zone to allocate in (must be listed by zones/)")
	flag.StringVar(&c.space, "space", "", "space of interface constraint 0 (Juju: interfaces=0:space=NAME); empty: none")
	flag.StringVar(&tags, "tags", "", "comma-separated tags the allocated machine must have")
	flag.IntVar(&c.minCPU, "cpu", 0, "minimum CPU count")
	flag.IntVar(&c.minMem, "mem", 0, "minimum memory in MiB")
	flag.StringVar(&c.distroSeries, "distro-series", "jammy", "distro_series to start the machine with")
	flag.StringVar(&c.userData, "user-data", "#!/bin/sh\necho juju\n", "user data (sent gzipped and base64-encoded, as Juju does)")
	flag.StringVar(&ownerData, "owner-data", "juju-model-uuid=juju-model-uuid,juju-is-controller=true", "owner data key=value pairs to set")
	flag.StringVar(&c.deviceHostname, "device-hostname", "juju-machine-0-lxd-0", "hostname of the container device")
	flag.StringVar(&macs, "device-macs", "00:16:3e:00:00:01,00:16:3e:00:00:02", "MACs of the container's interfaces (eth0, eth1, …)")
	flag.StringVar(&c.domain, "domain", "maas", "a domain domains/ must list")
	flag.StringVar(&c.staticRouteGW, "static-route-gateway", "", "a gateway_ip static-routes/ must list; empty: any list")
	flag.StringVar(&c.releaseComment, "release-comment", "released by juju", "comment sent with release")
	flag.DurationVar(&c.deployTimeout, "deploy-timeout", 3*time.Minute, "how long to wait for Deployed")
	flag.DurationVar(&c.releaseTimeout, "release-timeout", 3*time.Minute, "how long to wait for Ready after release")
	flag.StringVar(&c.expectMachineID, "expect-machine", "", "system_id allocate must return; empty: any")
	flag.Parse()
	if c.url == "" || c.key == "" {
		return c, nil, fmt.Errorf("-url and -key (or MAAS_URL and MAAS_API_KEY) are required")
	}
	c.tags = splitList(tags)
	c.deviceMACs = splitList(macs)
	c.ownerData = map[string]string{}
	for _, pair := range splitList(ownerData) {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return c, nil, fmt.Errorf("-owner-data: %q is not key=value", pair)
		}
		c.ownerData[k] = v
	}
	selected, err := selectSteps(steps)
	return c, selected, err
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func selectSteps(spec string) ([]string, error) {
	if spec == "all" {
		return stepNames(), nil
	}
	known := map[string]bool{}
	for _, name := range stepNames() {
		known[name] = true
	}
	wanted := map[string]bool{}
	for _, name := range splitList(spec) {
		if !known[name] {
			return nil, fmt.Errorf("-steps: unknown step %q (known: %s)", name, strings.Join(stepNames(), ","))
		}
		wanted[name] = true
	}
	// Always in the flow's order, whatever order they were named in.
	var out []string
	for _, name := range stepNames() {
		if wanted[name] {
			out = append(out, name)
		}
	}
	return out, nil
}

func emit(record map[string]any) {
	line, err := json.Marshal(record)
	if err != nil {
		line = []byte(fmt.Sprintf(`{"step":%q,"ok":false,"error":"unprintable result: %s"}`, record["step"], err))
	}
	fmt.Println(string(line))
}

func main() {
	cfg, steps, err := parseFlags()
	if err != nil {
		emit(map[string]any{"step": "flags", "ok": false, "error": err.Error()})
		os.Exit(2)
	}
	f := &flow{cfg: cfg}
	for _, name := range steps {
		result, err := runStep(f, name)
		if err != nil {
			emit(map[string]any{"step": name, "ok": false, "error": err.Error()})
			os.Exit(1)
		}
		record := map[string]any{"step": name, "ok": true}
		for k, v := range result {
			record[k] = v
		}
		emit(record)
	}
}
