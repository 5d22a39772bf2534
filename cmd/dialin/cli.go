package main

import "io"

// isAdminCommand reports whether name is an administration subcommand
// (user, pin, conference-id, meeting, settings).
func isAdminCommand(name string) bool { return false }

// runAdmin runs an administration subcommand and returns the exit code.
func runAdmin(args []string, stdout, stderr io.Writer) int { return 2 }
