package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// dockerfileReport is what the tests read about a service's build besides the problems.
type dockerfileReport struct {
	Dockerfile string   `json:"dockerfile"`
	Stages     []string `json:"stages"`
	// Reached: the stages this build (its args and target) runs, in no particular order.
	Reached []string `json:"reached"`
	// Insecure: stages reached that have a RUN --security=insecure.
	Insecure []string `json:"insecure"`
	// Copied: every COPY/ADD source from the build context, relative to it.
	Copied []string `json:"copied"`
}

func checkBuild(service string, build *types.BuildConfig) (dockerfileReport, []string) {
	var problems []string
	problem := func(format string, a ...any) {
		problems = append(problems, fmt.Sprintf("service %s: ", service)+fmt.Sprintf(format, a...))
	}
	dockerfile := build.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(build.Context, dockerfile)
	}
	report := dockerfileReport{Dockerfile: dockerfile, Stages: []string{}, Reached: []string{}, Insecure: []string{}, Copied: []string{}}
	text, err := os.ReadFile(dockerfile)
	if err != nil {
		problem("%v", err)
		return report, problems
	}
	ast, err := parser.Parse(bytes.NewReader(text))
	if err != nil {
		problem("%s: %v", dockerfile, err)
		return report, problems
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		problem("%s: %v", dockerfile, err)
		return report, problems
	}
	if len(stages) == 0 {
		problem("%s has no FROM", dockerfile)
		return report, problems
	}

	// Build args: the global ARGs' defaults, overridden by what compose passes; each one compose
	// passes must be declared somewhere, or it changes nothing.
	declared := map[string]bool{}
	values := map[string]string{}
	for _, arg := range metaArgs {
		for _, kv := range arg.Args {
			declared[kv.Key] = true
			if kv.Value != nil {
				values[kv.Key] = *kv.Value
			}
		}
	}
	byName := map[string]int{}
	for i, stage := range stages {
		report.Stages = append(report.Stages, stage.Name)
		if stage.Name != "" {
			byName[strings.ToLower(stage.Name)] = i
		}
		for _, command := range stage.Commands {
			if arg, ok := command.(*instructions.ArgCommand); ok {
				for _, kv := range arg.Args {
					declared[kv.Key] = true
				}
			}
		}
	}
	for key, value := range build.Args {
		if !declared[key] {
			problem("build arg %s is not declared by any ARG in %s", key, dockerfile)
		}
		if value != nil {
			values[key] = *value
		}
	}
	expand := func(word string) string { return os.Expand(word, func(k string) string { return values[k] }) }

	ignored := dockerignore(dockerfile, build.Context, &problems, service)
	// stageOf: the stage index a FROM or --from names, or -1 for an image (which must be tagged or
	// pinned: a bare name is a stage that does not exist more often than a wanted :latest).
	stageOf := func(where, name string) int {
		expanded := expand(name)
		if i, ok := byName[strings.ToLower(expanded)]; ok {
			return i
		}
		if expanded == "scratch" || strings.ContainsAny(expanded, ":@") {
			return -1
		}
		problem("%s: %s %q is neither a stage of %s nor a tagged image", dockerfile, where, expanded, filepath.Base(dockerfile))
		return -1
	}
	depends := make([][]int, len(stages))
	for i, stage := range stages {
		if base := stageOf("FROM", stage.BaseName); base >= 0 {
			depends[i] = append(depends[i], base)
		}
		for _, command := range stage.Commands {
			var sources []string
			switch c := command.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					if from := stageOf("COPY --from", c.From); from >= 0 {
						depends[i] = append(depends[i], from)
					}
					continue
				}
				sources = c.SourcePaths
			case *instructions.AddCommand:
				sources = c.SourcePaths
			}
			for _, src := range sources {
				if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
					continue
				}
				report.Copied = append(report.Copied, src)
				problems = append(problems, checkSource(service, build.Context, src, ignored)...)
			}
		}
	}

	target := len(stages) - 1
	if build.Target != "" {
		i, ok := byName[strings.ToLower(build.Target)]
		if !ok {
			problem("build target %q is not a stage of %s", build.Target, dockerfile)
			return report, problems
		}
		target = i
	}
	entitled := false
	for _, e := range build.Entitlements {
		entitled = entitled || e == "security.insecure"
	}
	seen := map[int]bool{}
	var visit func(int)
	visit = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		name := stages[i].Name
		report.Reached = append(report.Reached, name)
		for _, command := range stages[i].Commands {
			if run, ok := command.(*instructions.RunCommand); ok && instructions.GetSecurity(run) == instructions.SecurityInsecure {
				report.Insecure = append(report.Insecure, name)
				if !entitled {
					problem("stage %s runs RUN --security=insecure but the build is not granted entitlements: [security.insecure]", name)
				}
				if syntax, _, _, _ := parser.DetectSyntax(text); !securityInStable(syntax) {
					problem("%s: RUN --security is in the Dockerfile syntax from 1.20 on: say # syntax=docker/dockerfile:1 (it has %q)", dockerfile, syntax)
				}
				break
			}
		}
		for _, d := range depends[i] {
			visit(d)
		}
	}
	visit(target)
	sort.Strings(report.Reached)
	return report, problems
}

// checkSource: a COPY/ADD source must match something in the context that .dockerignore keeps.
func checkSource(service, context, src string, ignored *patternmatcher.PatternMatcher) []string {
	matches, err := filepath.Glob(filepath.Join(context, filepath.FromSlash(src)))
	if err != nil || len(matches) == 0 {
		return []string{fmt.Sprintf("service %s: COPY source %s does not exist in the build context %s", service, src, context)}
	}
	var problems []string
	for _, match := range matches {
		rel, _ := filepath.Rel(context, match)
		if ignored == nil {
			continue
		}
		if excluded, _ := ignored.MatchesOrParentMatches(filepath.ToSlash(rel)); excluded {
			problems = append(problems, fmt.Sprintf("service %s: COPY source %s is excluded by .dockerignore", service, rel))
		}
	}
	return problems
}

// dockerignore: BuildKit's rule: <Dockerfile>.dockerignore beside the Dockerfile, else the
// context's .dockerignore.
func dockerignore(dockerfile, context string, problems *[]string, service string) *patternmatcher.PatternMatcher {
	f, err := os.Open(dockerfile + ".dockerignore")
	if err != nil {
		if f, err = os.Open(filepath.Join(context, ".dockerignore")); err != nil {
			return nil
		}
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err == nil {
		var pm *patternmatcher.PatternMatcher
		if pm, err = patternmatcher.New(patterns); err == nil {
			return pm
		}
	}
	*problems = append(*problems, fmt.Sprintf("service %s: .dockerignore: %v", service, err))
	return nil
}

// securityInStable: whether the `# syntax=` directive picks a frontend with RUN --security (stable
// since docker/dockerfile 1.20; any -labs has it too). Without a directive the builder's built-in
// frontend decides, which may be older: ask for it explicitly.
func securityInStable(syntax string) bool {
	m := regexp.MustCompile(`^(?:docker\.io/)?docker/dockerfile:1(?:\.(\d+))?(?:\.\d+)?(-labs)?$`).FindStringSubmatch(syntax)
	if m == nil {
		return false
	}
	if m[1] == "" || m[2] != "" {
		return true
	}
	minor, _ := strconv.Atoi(m[1])
	return minor >= 20
}
