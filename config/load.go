package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load returns the configuration in the YAML file at path: Default, with the
// file's values decoded over it (absent fields keep their defaults; an empty
// file is valid), ${NAME} references in string values expanded from the
// environment, the DIALIN_* overrides applied (see ApplyEnv), and the result
// validated. An empty path means no file: defaults plus environment, and
// the demo organizer (demo_organizer) on.
//
// Every problem found is reported, one per line, each starting with the file
// name and, where known, the line in the file.
func Load(path string) (Config, error) {
	cfg := Default()
	var root *yaml.Node // the parsed file, to find the line of a bad field
	prefix := "config"
	if path == "" {
		// No file: the loopback demo of make run, which may be called at
		// once. A file (a deployment) asks for the demo organizer itself.
		cfg.DemoOrganizer = true
	} else {
		prefix = path
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		if err := decode(data, &cfg); err != nil {
			return Config{}, located(prefix, nil, nil, err)
		}
		if err := cfg.renamedKeys(); err != nil {
			return Config{}, located(prefix, nil, nil, err)
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) == nil {
			root = &doc
		}
	}
	expandErr := expandEnv(&cfg)
	overridden := cfg.ApplyEnv()
	if err := errors.Join(expandErr, dropPaths(cfg.Validate(), expandErr)); err != nil {
		return Config{}, located(prefix, root, overridden, err)
	}
	return cfg, nil
}

// renamedKeys moves the values of keys that were renamed to their new
// names, with a warning, so existing files keep working; a file that sets
// both names is refused.
func (c *Config) renamedKeys() error {
	if c.SIP.OldDialInNumbers != nil {
		if c.SIP.CalledNumbers != nil {
			return &FieldError{Path: "sip.dial_in_numbers", Msg: "is the old name of sip.called_numbers, which is set too: keep only sip.called_numbers"}
		}
		c.SIP.CalledNumbers, c.SIP.OldDialInNumbers = c.SIP.OldDialInNumbers, nil
		c.Warnings = append(c.Warnings, "sip.dial_in_numbers is now sip.called_numbers (the numbers the bridge answers); "+
			"rename it: the old name will stop working. The dial-in numbers shown in emails are a setting: dialin settings set dial-in-numbers")
	}
	return nil
}

// dropPaths removes from err the field errors about paths that also appear
// in skip: a field whose ${NAME} failed to expand still holds the raw text,
// and "is not an IP address" on top of "FOO is not set" would be noise.
func dropPaths(err, skip error) error {
	if err == nil || skip == nil {
		return err
	}
	bad := make(map[string]bool)
	for _, e := range unjoin(skip) {
		var fe *FieldError
		if errors.As(e, &fe) {
			bad[fe.Path] = true
		}
	}
	var kept []error
	for _, e := range unjoin(err) {
		var fe *FieldError
		if errors.As(e, &fe) && bad[fe.Path] {
			continue
		}
		kept = append(kept, e)
	}
	return errors.Join(kept...)
}

// unjoin splits an errors.Join result, nested or not, back into its errors.
func unjoin(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var errs []error
	for _, e := range j.Unwrap() {
		errs = append(errs, unjoin(e)...)
	}
	return errs
}

// envOverrides are the deployment-specific values that may be set without
// editing the file; each replaces the field at path when set and not empty.
var envOverrides = []struct {
	name  string
	path  string
	field func(*Config) *string
}{
	{"DIALIN_SIP_PUBLIC_ADDRESS", "sip.public_address", func(c *Config) *string { return &c.SIP.PublicAddress }},
	{"DIALIN_LOG_LEVEL", "log.level", func(c *Config) *string { return &c.Log.Level }},
	{"DIALIN_LOG_FORMAT", "log.format", func(c *Config) *string { return &c.Log.Format }},
	{"DIALIN_DATA_DIR", "data_dir", func(c *Config) *string { return &c.DataDir }},
}

// ApplyEnv applies the environment overrides DIALIN_SIP_PUBLIC_ADDRESS,
// DIALIN_LOG_LEVEL, DIALIN_LOG_FORMAT and DIALIN_DATA_DIR. An empty variable
// is ignored, so `VAR= dialin serve` cannot blank a field by accident. It
// returns the YAML paths it changed, each mapped to its variable's name, so
// errors can say where a bad value came from.
func (c *Config) ApplyEnv() map[string]string {
	applied := make(map[string]string)
	for _, o := range envOverrides {
		if v := os.Getenv(o.name); v != "" {
			*o.field(c) = v
			applied[o.path] = o.name
		}
	}
	return applied
}

// decode decodes one YAML document over cfg, rejecting unknown keys.
func decode(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	if errors.Is(err, io.EOF) {
		return nil // empty file or only comments: keep the defaults
	}
	if err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return typeErrors(te)
		}
		if hint := tabHint(data); hint != "" {
			return fmt.Errorf("%w (%s)", err, hint)
		}
		return err
	}
	// A second document would be silently ignored; say so instead.
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document (---); the config file holds one")
	}
	return nil
}

// typeErrors turns yaml's one "unmarshal errors:" block into one error per
// problem, adding a hint where yaml's wording is terse.
func typeErrors(te *yaml.TypeError) error {
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		if strings.Contains(msg, "into time.Duration") {
			msg += ` (write a duration with a unit, like "30s", "500ms" or "0s")`
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// tabHint names the first line indented with a tab: yaml reports it only as
// "found character that cannot start any token".
func tabHint(data []byte) string {
	for i, line := range strings.Split(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if strings.Contains(indent, "\t") {
			return fmt.Sprintf("line %d is indented with a tab; YAML needs spaces", i+1)
		}
	}
	return ""
}

// expandEnv replaces ${NAME} in every string field with the variable's value.
// An unset variable is an error, so a missing secret stops the start rather
// than becoming an empty password. "$${" stands for a literal "${".
func expandEnv(cfg *Config) error {
	var errs []error
	walkStrings(reflect.ValueOf(cfg).Elem(), "", func(path string, s *string) {
		if !strings.Contains(*s, "${") {
			return
		}
		v, err := expand(*s)
		if err != nil {
			errs = append(errs, &FieldError{Path: path, Msg: err.Error()})
			return
		}
		*s = v
	})
	return errors.Join(errs...)
}

// expand expands the ${NAME} references in s.
func expand(s string) (string, error) {
	var b strings.Builder
	var unset []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' { // "$${" is an escaped "${"
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("%q: unclosed ${ (write ${NAME}, or $${ for a literal ${)", s[i:])
		}
		name := s[i+2 : i+end]
		if !validEnvName(name) {
			return "", fmt.Errorf("%q is not a valid ${NAME} reference", s[i:i+end+1])
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			unset = append(unset, name)
		}
		b.WriteString(v)
		s = s[i+end+1:]
	}
	if len(unset) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(unset, ", "))
	}
	return b.String(), nil
}

// validEnvName reports whether name is a shell-style variable name.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// walkStrings calls fn for every string reachable from v (struct fields,
// slice elements, map values), with its YAML path. It walks by reflection so
// string fields added later get ${NAME} expansion without more code here.
func walkStrings(v reflect.Value, path string, fn func(path string, s *string)) {
	switch v.Kind() {
	case reflect.String:
		if v.CanAddr() {
			fn(path, v.Addr().Interface().(*string))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			walkStrings(v.Field(i), joinPath(path, name), fn)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(v.Index(i), path+"["+strconv.Itoa(i)+"]", fn)
		}
	case reflect.Map:
		// Map values are not addressable: expand a copy and store it back.
		if v.Type().Elem().Kind() != reflect.String || v.Type().Key().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			s := v.MapIndex(k).String()
			fn(joinPath(path, k.String()), &s)
			v.SetMapIndex(k, reflect.ValueOf(s).Convert(v.Type().Elem()))
		}
	}
}

// yamlName is the key yaml.v3 uses for a struct field, or "" if it has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name)
	}
	return name
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// located prefixes every problem in err with the file name and, for a field
// error, the line of that field in root or the variable that set it.
func located(prefix string, root *yaml.Node, env map[string]string, err error) error {
	errs := unjoin(err)
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		var fe *FieldError
		switch {
		case !errors.As(e, &fe):
			out = append(out, fmt.Errorf("%s: %w", prefix, e))
		case env[fe.Path] != "":
			out = append(out, fmt.Errorf("%s: %w (set by %s)", prefix, e, env[fe.Path]))
		case lineOf(root, fe.Path) > 0:
			out = append(out, fmt.Errorf("%s: line %d: %w", prefix, lineOf(root, fe.Path), e))
		default:
			out = append(out, fmt.Errorf("%s: %w", prefix, e))
		}
	}
	return errors.Join(out...)
}

// lineOf returns the line of the value at a YAML path like "sip.listen[1]"
// in the parsed file, or 0 if the file does not set it (a default).
func lineOf(root *yaml.Node, path string) int {
	if root == nil {
		return 0
	}
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return 0
		}
		n = n.Content[0]
	}
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if n = mapValue(n, key); n == nil {
			return 0
		}
		// Follow each "[i]" index into a sequence.
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			if n.Kind == yaml.AliasNode {
				n = n.Alias
			}
			if err != nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return 0
			}
			n = n.Content[i]
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return n.Line
}

// mapValue returns the value node for key in mapping node n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
