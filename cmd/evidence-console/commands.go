package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/config"
)

// command is one subcommand of the command line.
type command struct {
	// words name the command: "serve", or "user" and "create".
	words []string
	// arguments name the positional arguments, which are all required.
	arguments []string
	// flagsUsage shows the command's own flags in its usage line.
	flagsUsage string
	summary    string
	// define defines the command's own flags on flags, beside the setting
	// flags, and returns the function that runs the command once flags and
	// settings are parsed.
	define func(a *app, flags *flag.FlagSet) runFunc
}

// runFunc runs a command with its positional arguments.
type runFunc func(ctx context.Context, arguments []string) error

func (c command) name() string { return strings.Join(c.words, " ") }

// usage returns the command line that runs c, without "evidence-console".
func (c command) usage() string {
	parts := append([]string{}, c.words...)
	parts = append(parts, c.arguments...)
	if c.flagsUsage != "" {
		parts = append(parts, c.flagsUsage)
	}
	return strings.Join(parts, " ")
}

// checkArguments checks the number of positional arguments.
func (c command) checkArguments(arguments []string) error {
	switch {
	case len(arguments) > len(c.arguments) && len(c.arguments) == 0:
		return fmt.Errorf("unexpected argument %q; %s takes no arguments", arguments[0], c.name())
	case len(arguments) > len(c.arguments):
		return fmt.Errorf("unexpected argument %q; %s takes only %s", arguments[len(c.arguments)], c.name(), strings.Join(c.arguments, " "))
	case len(arguments) < len(c.arguments):
		return fmt.Errorf("missing argument %s", c.arguments[len(arguments)])
	}
	return nil
}

// commands lists every subcommand in the order the help shows them. The
// first one runs when the command line names none.
func commands() []command {
	return []command{
		{
			words: []string{"serve"}, summary: "run the web server (the default command)",
			define: func(a *app, _ *flag.FlagSet) runFunc {
				return func(ctx context.Context, _ []string) error { return a.serve(ctx) }
			},
		},
		{
			words: []string{"migrate"}, summary: "apply pending database migrations and exit",
			define: func(a *app, _ *flag.FlagSet) runFunc {
				return func(ctx context.Context, _ []string) error { return a.migrate(ctx) }
			},
		},
		{
			words: []string{"import"}, arguments: []string{"FILE"},
			summary: `store the records of an export file {"items": [ … ]} or {"records": [ … ]}`,
			define: func(a *app, _ *flag.FlagSet) runFunc {
				return func(ctx context.Context, arguments []string) error { return a.importFile(ctx, arguments[0]) }
			},
		},
		{
			words: []string{"user", "create"}, flagsUsage: "--username NAME --role ROLE",
			summary: "create a user with ROLE (" + auth.RoleList() + "); the password is the first line of standard input, or generated and printed when standard input is empty",
			define:  (*app).defineUserCreate,
		},
		{
			words: []string{"token", "create"}, flagsUsage: "--username NAME [--name LABEL]",
			summary: "create a personal API token for a user and print it as the last line",
			define:  (*app).defineTokenCreate,
		},
	}
}

// errUnknownCommand starts the error for a first word that names no command.
var errUnknownCommand = errors.New("unknown command")

// findCommand returns the command that args start with, and the arguments
// after its words. With no arguments it returns serve. When the first word
// names a command but a later word does not match, it returns that command
// with the error, so the caller can show the command's usage.
func findCommand(args []string) (command, []string, error) {
	all := commands()
	if len(args) == 0 {
		return all[0], nil, nil
	}
	for _, c := range all {
		if args[0] != c.words[0] {
			continue
		}
		for i, word := range c.words[1:] {
			if len(args) <= i+1 {
				return c, nil, fmt.Errorf("%s: missing subcommand; use %s", args[0], c.name())
			}
			if isHelpFlag(args[i+1]) {
				// "user --help" shows the help of "user create".
				return c, args[i+1:], nil
			}
			if args[i+1] != word {
				return c, nil, fmt.Errorf("%s: unknown subcommand %q; use %s", args[0], args[i+1], c.name())
			}
		}
		return c, args[len(c.words):], nil
	}
	names := make([]string, 0, len(all))
	for _, c := range all {
		names = append(names, c.name())
	}
	return command{}, nil, fmt.Errorf("%w %q; use %s or help", errUnknownCommand, args[0], strings.Join(names, ", "))
}

// isHelpFlag reports whether arg is one of the help flags that the flag
// package recognises: -h, -help, --h and --help.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}

// newFlagSet returns a flag set with the setting flags defined. It prints
// nothing, because run writes each message to the right stream itself.
func newFlagSet(name string, settings *config.Settings) *flag.FlagSet {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	settings.AddFlags(flags)
	return flags
}

// parseInterspersed parses flags placed anywhere among args and returns
// the other arguments in order. Every argument after "--" is positional.
func parseInterspersed(flags *flag.FlagSet, args []string) ([]string, error) {
	var arguments []string
	for {
		if err := flags.Parse(args); err != nil {
			return nil, err
		}
		rest := flags.Args()
		if len(rest) == 0 {
			return arguments, nil
		}
		if parsed := len(args) - len(rest); parsed > 0 && args[parsed-1] == "--" {
			return append(arguments, rest...), nil
		}
		arguments = append(arguments, rest[0])
		args = rest[1:]
	}
}

// overallUsage is the short usage shown after a mistake that no single
// command is to blame for.
const overallUsage = "Usage: evidence-console [COMMAND [ARGUMENTS]] [SETTING FLAGS]\n" +
	"Run `evidence-console help` for the commands and settings.\n"

// printCommandUsage writes the usage line of c.
func printCommandUsage(w io.Writer, c command) {
	fmt.Fprintf(w, "Usage: evidence-console %s [SETTING FLAGS]\n", c.usage())
	fmt.Fprintln(w, "Run `evidence-console help` for the setting flags.")
}

// printHelp writes the full help: the commands, where flags go, and the
// settings.
func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage: evidence-console [COMMAND [ARGUMENTS]] [SETTING FLAGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(table, "  %s\t%s\n", c.usage(), c.summary)
	}
	fmt.Fprintf(table, "  %s\t%s\n", "help", "print this help, as -h and --help do")
	table.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Setting flags go before or after the command, for example")
	fmt.Fprintln(w, "evidence-console serve --listen-addr 127.0.0.1:9080. A flag overrides its")
	fmt.Fprintln(w, "environment variable; a flag given twice takes the later value.")
	fmt.Fprintln(w)
	config.Usage(w)
}
