// compose-check: what `docker compose config` and a Dockerfile parse would catch, without a Docker
// engine. It loads a compose file with compose-go (the loader `docker compose` itself uses: schema,
// interpolation with required variables, merge keys, consistency of depends_on/volumes/networks),
// then checks what the loader leaves to build time: bind-mount sources exist, and each service's
// Dockerfile parses with BuildKit's own parser, every FROM names a stage or a tagged image, every
// COPY/ADD source exists in the build context and is not dropped by .dockerignore, every build arg
// the compose file passes is declared, and a RUN --security=insecure the build reaches is granted
// the security.insecure entitlement and a `# syntax=` frontend that has it. Problems go to stderr, one a line, and the exit status is 1;
// on success the loaded project (as `docker compose config --format json` prints it) is on stdout.
//
//	go run . [-project-directory DIR] docker-compose.yml
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	projectDir := flag.String("project-directory", "", "what relative paths are relative to (default: the compose file's directory), as docker compose --project-directory")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-project-directory DIR] COMPOSE_FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	file, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		fail(err.Error())
	}
	dir := filepath.Dir(file)
	if *projectDir != "" {
		if dir, err = filepath.Abs(*projectDir); err != nil {
			fail(err.Error())
		}
	}
	project, err := load(file, dir)
	if err != nil {
		fail(err.Error())
	}
	var problems []string
	problems = append(problems, checkBindMounts(project)...)
	builds := map[string]dockerfileReport{}
	for _, name := range project.ServiceNames() {
		service := project.Services[name]
		if service.Build == nil {
			continue
		}
		report, found := checkBuild(name, service.Build)
		builds[name] = report
		problems = append(problems, found...)
	}
	if len(problems) > 0 {
		fail(strings.Join(problems, "\n"))
	}
	model, err := project.MarshalJSON()
	if err != nil {
		fail(err.Error())
	}
	out, err := json.Marshal(map[string]any{"project": json.RawMessage(model), "builds": builds})
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(string(out))
}

// load reads the file as `docker compose config` does, from the process environment only (no
// .env file: the caller says what is set), with every check the loader has switched on.
func load(file, dir string) (*types.Project, error) {
	options, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(dir),
		cli.WithOsEnv,
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		return nil, err
	}
	return cli.ProjectFromOptions(context.Background(), options)
}

// checkBindMounts: compose would create a missing bind source as an empty directory, so a file
// mount (an init script, a config) that is not there fails only inside the container.
func checkBindMounts(project *types.Project) []string {
	var problems []string
	for _, name := range project.ServiceNames() {
		for _, volume := range project.Services[name].Volumes {
			if volume.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(volume.Source); err != nil {
				problems = append(problems, fmt.Sprintf("service %s: bind mount source %s does not exist", name, volume.Source))
			}
		}
	}
	return problems
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(1)
}
