// Command totpvault holds TOTP secrets so that machines can sign in where a
// person would reach for a phone. It serves the HTTP API (the default
// command) and has commands for the operator: migrate, keygen, token and
// copy; help lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(mainWithSignals(os.Args[1:], osEnvironment, os.Stdout, os.Stderr))
}

// mainWithSignals runs Main until it returns; the first SIGINT or SIGTERM
// ends its context, which makes serve drain and return.
func mainWithSignals(args []string, env environment, out, errOut io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// After the first signal the default handling returns, so that a second
	// one ends a drain that takes too long.
	context.AfterFunc(ctx, stop)

	return Main(ctx, args, env, out, errOut)
}

// command is one thing the binary can do.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, env environment, out, errOut io.Writer) error
}

// commands are the binary's subcommands; serve is the default.
var commands map[string]command

func init() {
	commands = map[string]command{
		"serve":   {"serve the HTTP API (the default)", runServe},
		"migrate": {"apply the database schema and exit", runMigrate},
		"keygen":  {"print a fresh master key", runKeygen},
		"token":   {"token create: make a token straight in the database", runToken},
		"copy":    {"copy the embedded store into an empty PostgreSQL database", runCopy},
		"help":    {"list the commands, then the settings (help COMMAND: its flags)", runHelp},
	}
}

// commandOrder is the order in which usage lists the commands.
var commandOrder = []string{"serve", "migrate", "keygen", "token", "copy", "help"}

// Main runs the command named by args and returns the process's exit code:
// 0 on success, 2 for a usage error, 1 for any other failure.
func Main(ctx context.Context, args []string, env environment, out, errOut io.Writer) int {
	name := "serve"
	switch {
	case len(args) > 0 && isHelpFlag(args[0]):
		// Help without a command is the default command's help, with the
		// list of commands before it.
		usage(errOut)
		fmt.Fprintln(errOut)
	case len(args) > 0 && args[0] != "" && args[0][0] != '-':
		name, args = args[0], args[1:]
	}

	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(errOut, "totpvault: unknown command %q\n\n", name)
		usage(errOut)
		return 2
	}

	err := cmd.run(ctx, args, env, out, errOut)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}

	fmt.Fprintf(errOut, "totpvault %s: %v\n", name, err)
	return 1
}

// errUsage marks a command line that could not be parsed; the flag package
// has already said why.
var errUsage = errors.New("usage")

// usage lists the commands.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: totpvault [command] [flags]\n\ncommands:")
	for _, name := range commandOrder {
		fmt.Fprintf(w, "  %-8s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nrun totpvault COMMAND --help for its flags")
}

// isHelpFlag reports whether arg asks for help the way flag packages take it.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// runHelp runs "help": with a command name, that command's --help;
// without, the list of commands and serve's settings, as --help does.
func runHelp(ctx context.Context, args []string, env environment, out, errOut io.Writer) error {
	if len(args) > 0 {
		if cmd, ok := commands[args[0]]; ok && args[0] != "help" {
			return cmd.run(ctx, []string{"--help"}, env, out, errOut)
		}
		fmt.Fprintf(errOut, "totpvault help: unknown command %q\n\n", args[0])
		usage(errOut)
		return errUsage
	}

	usage(errOut)
	fmt.Fprintln(errOut)
	return runServe(ctx, []string{"--help"}, env, out, errOut)
}

// parseFlags parses args into fs and resolves the configuration.
func parseFlags(fs *flag.FlagSet, args []string, env environment) (Config, error) {
	resolve := configFlags(fs, env)

	if err := fs.Parse(args); err != nil {
		return Config{}, flagError(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return Config{}, errUsage
	}
	return resolve()
}

// newFlagSet makes the flag set of a command, writing its help to w.
func newFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("totpvault "+name, flag.ContinueOnError)
	fs.SetOutput(w)
	return fs
}
