package config

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// validateCarriers checks sip.carrier_networks: networks, each inside a
// trusted network (a carrier that may not call is a typo).
func (s *SIP) validateCarriers(p *problems) {
	for i, n := range s.CarrierNetworks {
		path := fmt.Sprintf("sip.carrier_networks[%d]", i)
		c, err := ParseNetwork(n)
		if err != nil {
			p.add(path, "%v", err)
			continue
		}
		inside := false
		for _, t := range s.TrustedNetworks {
			tp, err := ParseNetwork(t)
			if err == nil && tp.Bits() <= c.Bits() && tp.Contains(c.Addr()) {
				inside = true
				break
			}
		}
		if !inside {
			p.add(path, "%q is not inside sip.trusted_networks: a carrier must also be trusted to call", n)
		}
	}
}

// validateCarrierGuess checks the carriers' guessing budget.
func (v *IVR) validateCarrierGuess(p *problems) {
	if v.CarrierGuessInterval < time.Second || v.CarrierGuessInterval > 24*time.Hour {
		p.add("ivr.carrier_guess_interval", "%v is not between 1s and 24h0m0s", v.CarrierGuessInterval)
	}
	if v.CarrierGuessBurst < 1 || v.CarrierGuessBurst > 1000 {
		p.add("ivr.carrier_guess_burst", "%d is not 1-1000", v.CarrierGuessBurst)
	}
	if v.CarrierGuessMaxWait < 0 || v.CarrierGuessMaxWait > time.Minute {
		p.add("ivr.carrier_guess_max_wait", "%v is not between 0s and 1m0s", v.CarrierGuessMaxWait)
	}
}

// validatePINSecretFile checks pin_secret_file: when set, not blank and
// not a folder (a missing file is created on first start).
func (c *Config) validatePINSecretFile(p *problems) {
	if c.PINSecretFile == "" {
		return
	}
	if strings.TrimSpace(c.PINSecretFile) == "" {
		p.add("pin_secret_file", "is blank; leave it empty or give a file path")
		return
	}
	if fi, err := os.Stat(c.PINSecretFile); err == nil && fi.IsDir() {
		p.add("pin_secret_file", "%q is a directory; give the path of the secret's file", c.PINSecretFile)
	}
}
