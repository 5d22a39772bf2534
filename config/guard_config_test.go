package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The guard's and the PIN secret's fields: each bad value named by its field.
func TestValidateGuardFields(t *testing.T) {
	dir := t.TempDir()
	cases := []validationCase{
		{"carrier inside trusted", func(c *Config) { c.SIP.CarrierNetworks = []string{"127.0.0.1", "127.0.0.0/8"} }, ""},
		{"carrier not a network", func(c *Config) { c.SIP.CarrierNetworks = []string{"sbc.example.com"} }, `sip.carrier_networks[0]: "sbc.example.com" is not an IP address or a network`},
		{"carrier outside trusted", func(c *Config) { c.SIP.CarrierNetworks = []string{"127.0.0.1", "203.0.113.0/28"} }, `sip.carrier_networks[1]: "203.0.113.0/28" is not inside sip.trusted_networks`},
		{"carrier wider than trusted", func(c *Config) { c.SIP.CarrierNetworks = []string{"0.0.0.0/0"} }, `sip.carrier_networks[0]: "0.0.0.0/0" is not inside sip.trusted_networks`},
		{"carrier interval", func(c *Config) { c.IVR.CarrierGuessInterval = 500 * time.Millisecond }, "ivr.carrier_guess_interval: 500ms is not between 1s and 24h0m0s"},
		{"carrier burst", func(c *Config) { c.IVR.CarrierGuessBurst = 0 }, "ivr.carrier_guess_burst: 0 is not 1-1000"},
		{"carrier max wait", func(c *Config) { c.IVR.CarrierGuessMaxWait = 2 * time.Minute }, "ivr.carrier_guess_max_wait: 2m0s is not between 0s and 1m0s"},
		{"carrier no wait ok", func(c *Config) { c.IVR.CarrierGuessMaxWait = 0 }, ""},
		{"secret file blank", func(c *Config) { c.PINSecretFile = "  " }, "pin_secret_file: is blank"},
		{"secret file a folder", func(c *Config) { c.PINSecretFile = dir }, "pin_secret_file: " + `"` + dir + `" is a directory`},
		{"secret file missing ok", func(c *Config) { c.PINSecretFile = filepath.Join(dir, "pin-secret") }, ""},
	}
	checkValidation(t, cases)
}

func TestLoadCarrierFields(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), "dialin.yaml")
	content := "sip: {carrier_networks: [127.0.0.1]}\nivr: {carrier_guess_interval: 2s, carrier_guess_burst: 3, carrier_guess_max_wait: 1s}\npin_secret_file: /run/secret\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SIP.CarrierNetworks) != 1 || c.IVR.CarrierGuessInterval != 2*time.Second || c.IVR.CarrierGuessBurst != 3 ||
		c.IVR.CarrierGuessMaxWait != time.Second || c.PINSecretFile != "/run/secret" {
		t.Fatalf("loaded %+v %+v %q", c.SIP.CarrierNetworks, c.IVR, c.PINSecretFile)
	}
}

// validationCase changes the defaults (mod) and names the error Validate
// must give (want; "" means valid).
type validationCase struct {
	name string
	mod  func(*Config)
	want string
}

// checkValidation runs each case on Default() as a subtest.
func checkValidation(t *testing.T, cases []validationCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
